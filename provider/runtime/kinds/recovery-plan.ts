import type { EngineClient } from "../../../client/engine-client";
import { PlanSpec, type FieldFailure } from "../../../schema";
import { fields, type KindDefinition } from "../resource";
import { specOf, UNKNOWN, unlessMissing, type Props } from "../values";

/** Positions ("group.item") the program gave as text, not as a ProtectedItem's output (see provider/recovery-plan.ts). */
const PLAIN_ITEMS = "__plainItems";

/**
 * Machines a plan names by text must be protected already. Names from outputs are left alone: their
 * ProtectedItem exists before the plan is created, and in a preview it may not exist yet.
 */
async function missingItems(engine: EngineClient, inputs: Props): Promise<FieldFailure[]> {
  const failures: FieldFailure[] = [];
  const plain = new Set(Array.isArray(inputs[PLAIN_ITEMS]) ? (inputs[PLAIN_ITEMS] as string[]) : []);
  const groups = Array.isArray(inputs.groups) ? (inputs.groups as Props[]) : [];
  for (const [gi, group] of groups.entries()) {
    const items = Array.isArray(group?.items) ? (group.items as unknown[]) : [];
    for (const [ii, name] of items.entries()) {
      if (!plain.has(`${gi}.${ii}`) || typeof name !== "string" || name === UNKNOWN) continue;
      if (await unlessMissing(engine.item(name))) continue;
      failures.push({
        property: `groups.${gi}.items.${ii}`,
        reason: `no protected item named '${name}' in the vault; for an item this program creates, pass the ProtectedItem's \`name\` output so the plan waits for it`,
      });
    }
  }
  return failures;
}

/**
 * A recovery plan: ordered groups, parallel inside a group, actions before and after. The order of
 * groups, machines and actions is kept exactly as given. Declarative runs (activeSite) join later.
 */
export const recoveryPlan: KindDefinition = {
  schema: PlanSpec,
  inVault: true,
  identity: fields("name"),
  observed: [],
  verify: missingItems,
  async create(ctx, inputs) {
    const plan = await (await ctx.engine()).addPlan(specOf(inputs));
    return { id: plan.name };
  },
  async update(ctx, id, _olds, news) {
    await (await ctx.engine()).replacePlan(id, specOf(news));
    return undefined;
  },
  async read(ctx, id) {
    const plan = await unlessMissing((await ctx.engine()).getPlan(id));
    return plan && { name: plan.name, groups: plan.groups };
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removePlan(id));
  },
};
