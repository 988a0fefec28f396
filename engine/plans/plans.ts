import type { Vault } from "../vault";
import { NotFoundError } from "../errors";
import { parse, PlanSpec, ValidationError, type FieldFailure } from "../../schema";

/** Add a recovery plan; every machine it names must be a protected item, and the name must be free. */
export async function addPlan(vault: Vault, input: unknown): Promise<PlanSpec> {
  const spec = parse(PlanSpec, input, "recovery plan");
  const failures: FieldFailure[] = [];
  if (await vault.db.selectFrom("plans").select("id").where("name", "=", spec.name).executeTakeFirst()) failures.push({ property: "name", reason: `a recovery plan named '${spec.name}' already exists` });
  const known = new Set((await vault.db.selectFrom("items").select("name").execute()).map((r) => r.name));
  spec.groups.forEach((g, gi) => g.items.forEach((item, ii) => {
    if (!known.has(item)) failures.push({ property: `groups.${gi}.items.${ii}`, reason: `no protected item named '${item}'` });
  }));
  if (failures.length) throw new ValidationError("recovery plan", failures);
  await vault.db.insertInto("plans").values({ name: spec.name, spec: JSON.stringify(spec), created_at: vault.clock.now() }).execute();
  return spec;
}

export async function getPlan(vault: Vault, name: string): Promise<PlanSpec> {
  const row = await vault.db.selectFrom("plans").select("spec").where("name", "=", name).executeTakeFirst();
  if (!row) throw new NotFoundError("recovery plan", name);
  return JSON.parse(row.spec) as PlanSpec;
}

export async function listPlans(vault: Vault): Promise<PlanSpec[]> {
  const rows = await vault.db.selectFrom("plans").select("spec").orderBy("name").execute();
  return rows.map((r) => JSON.parse(r.spec) as PlanSpec);
}
