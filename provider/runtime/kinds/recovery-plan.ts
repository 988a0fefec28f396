import type { EngineClient } from "../../../client/engine-client";
import { ActiveSiteIntent, INTENT_KEYS, PlanSpec, type FieldFailure } from "../../../schema";
import { impactInputs, impactOf, NO_IMPACT, observedSite, reconcile } from "../active-site";
import { declarePlanIntent } from "../declared";
import { fields, type KindDefinition } from "../resource";
import { same, specOf, UNKNOWN, unlessMissing, type Props } from "../values";

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

const specOfPlan = (inputs: Props) => specOf(inputs, [...INTENT_KEYS]);

/** Where the plan's machines run: primary, recovery, or mixed while they are split. */
const observed = async (engine: EngineClient, name: string) => ({ activeSite: await observedSite(engine, { kind: "plan", name }), ...NO_IMPACT });

/**
 * A recovery plan: ordered groups, parallel inside a group, actions before and after. The order of
 * groups, machines and actions is kept exactly as given. A desired activeSite runs the plan towards it
 * (failover or failback, group by group), then commits and reprotects every machine.
 */
export const recoveryPlan: KindDefinition = {
  schema: PlanSpec.safeExtend(ActiveSiteIntent),
  inVault: true,
  key: "name",
  identity: fields("name"),
  observed: ["activeSite", "failoverImpact"],
  desired: ["activeSite"],
  runsJobs: true,
  verify: missingItems,
  crossCheck: async (_engine, inputs) => declarePlanIntent(inputs),
  async annotate(engine, inputs, unreachable) {
    return impactInputs(await impactOf(engine, { kind: "plan", name: String(inputs.name) }, inputs, unreachable));
  },
  async create(ctx, inputs) {
    const engine = await ctx.engine();
    const plan = await engine.addPlan(specOfPlan(inputs));
    ctx.made(plan.name);
    await reconcile(engine, { kind: "plan", name: plan.name }, inputs);
    return { id: plan.name, observed: await observed(engine, plan.name) };
  },
  async update(ctx, id, olds, news) {
    const engine = await ctx.engine();
    if (!same(specOfPlan(olds), specOfPlan(news))) await engine.replacePlan(id, specOfPlan(news));
    await reconcile(engine, { kind: "plan", name: id }, news);
    return observed(engine, id);
  },
  async read(ctx, id) {
    const engine = await ctx.engine();
    const plan = await unlessMissing(engine.getPlan(id));
    return plan && { name: plan.name, groups: plan.groups, ...(await observed(engine, id)) };
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removePlan(id));
  },
};
