import type { Vault } from "../vault";
import { NotFoundError } from "../errors";
import { parse, PlanSpec, ValidationError, type FieldFailure } from "../../schema";

/** Add a recovery plan; every machine it names must be a protected item, and the name must be free. */
export async function addPlan(vault: Vault, input: unknown): Promise<PlanSpec> {
  const spec = parse(PlanSpec, input, "recovery plan");
  const failures: FieldFailure[] = [];
  if (await vault.db.selectFrom("plans").select("id").where("name", "=", spec.name).executeTakeFirst()) failures.push({ property: "name", reason: `a recovery plan named '${spec.name}' already exists` });
  failures.push(...(await unknownItems(vault, spec)));
  if (failures.length) throw new ValidationError("recovery plan", failures);
  await vault.db.insertInto("plans").values({ name: spec.name, spec: JSON.stringify(spec), created_at: vault.clock.now() }).execute();
  return spec;
}

/** Replace a plan's groups and actions, kept in exactly the order given; the body's name must be the plan's. */
export async function replacePlan(vault: Vault, name: string, input: unknown): Promise<PlanSpec> {
  const spec = parse(PlanSpec, input, "recovery plan");
  await getPlan(vault, name);
  const failures: FieldFailure[] = spec.name === name ? [] : [{ property: "name", reason: `must be the plan's name '${name}' (a plan cannot be renamed)` }];
  failures.push(...(await unknownItems(vault, spec)));
  if (failures.length) throw new ValidationError("recovery plan", failures);
  await vault.db.updateTable("plans").set({ spec: JSON.stringify(spec) }).where("name", "=", name).execute();
  return spec;
}

export async function removePlan(vault: Vault, name: string): Promise<{ deleted: string }> {
  const result = await vault.db.deleteFrom("plans").where("name", "=", name).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError("recovery plan", name);
  return { deleted: name };
}

/** Machines a plan names that are not protected items. */
async function unknownItems(vault: Vault, spec: PlanSpec): Promise<FieldFailure[]> {
  const known = new Set((await vault.db.selectFrom("items").select("name").execute()).map((r) => r.name));
  return spec.groups.flatMap((g, gi) => g.items.flatMap((item, ii) => (known.has(item) ? [] : [{ property: `groups.${gi}.items.${ii}`, reason: `no protected item named '${item}'` }])));
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
