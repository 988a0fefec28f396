import type { Vault } from "../vault";
import { NotFoundError } from "../errors";
import { parse, PlanSpec, ValidationError, type FieldFailure } from "../../schema";
import { deletePlan, findPlanSpec, insertPlan, planSpecs, setPlanSpec } from "../catalog/plans";
import { itemNames } from "../catalog/items";

/** Add a recovery plan; every machine it names must be a protected item, and the name must be free. */
export async function addPlan(vault: Vault, input: unknown): Promise<PlanSpec> {
  const spec = parse(PlanSpec, input, "recovery plan");
  const failures: FieldFailure[] = [];
  if (await findPlanSpec(vault.db, spec.name)) failures.push({ property: "name", reason: `a recovery plan named '${spec.name}' already exists` });
  failures.push(...(await unknownItems(vault, spec)));
  if (failures.length) throw new ValidationError("recovery plan", failures);
  await insertPlan(vault.db, spec.name, JSON.stringify(spec), vault.clock.now());
  return spec;
}

/** Replace a plan's groups and actions, kept in exactly the order given; the body's name must be the plan's. */
export async function replacePlan(vault: Vault, name: string, input: unknown): Promise<PlanSpec> {
  const spec = parse(PlanSpec, input, "recovery plan");
  await getPlan(vault, name);
  const failures: FieldFailure[] = spec.name === name ? [] : [{ property: "name", reason: `must be the plan's name '${name}' (a plan cannot be renamed)` }];
  failures.push(...(await unknownItems(vault, spec)));
  if (failures.length) throw new ValidationError("recovery plan", failures);
  await setPlanSpec(vault.db, name, JSON.stringify(spec));
  return spec;
}

export async function removePlan(vault: Vault, name: string): Promise<{ deleted: string }> {
  if (!(await deletePlan(vault.db, name))) throw new NotFoundError("recovery plan", name);
  return { deleted: name };
}

/** Machines a plan names that are not protected items. */
async function unknownItems(vault: Vault, spec: PlanSpec): Promise<FieldFailure[]> {
  const known = new Set(await itemNames(vault.db));
  return spec.groups.flatMap((g, gi) =>
    g.items.flatMap((item, ii) => (known.has(item) ? [] : [{ property: `groups.${gi}.items.${ii}`, reason: `no protected item named '${item}'` }])),
  );
}

export async function getPlan(vault: Vault, name: string): Promise<PlanSpec> {
  const row = await findPlanSpec(vault.db, name);
  if (!row) throw new NotFoundError("recovery plan", name);
  return JSON.parse(row.spec) as PlanSpec;
}

export async function listPlans(vault: Vault): Promise<PlanSpec[]> {
  return (await planSpecs(vault.db)).map((spec) => JSON.parse(spec) as PlanSpec);
}
