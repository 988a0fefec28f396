// Declarative failover: an item's or a plan's desired `activeSite` against where the engine says its
// machines run. check() attaches what the move would do (the preview's truth); update() walks each
// machine through failover → commit → reprotect, or failback → commit → reprotect, from whatever state
// the engine reports, so an interrupted run (or one begun with the CLI) is finished, never repeated.
import type { EngineClient } from "../../client/engine-client";
import type { ItemStatus } from "../../engine/items/health";
import type { ActiveSite, FailoverImpact, FailbackRequest, FailoverIntent, ItemImpact } from "../../schema";
import { FailbackRequest as FailbackSchema, FailoverIntent as IntentSchema } from "../../schema";
import { succeeded } from "./jobs";
import { containsUnknown, unlessMissing, type Props } from "./values";

export type Target = { kind: "item" | "plan"; name: string };

type Step = "failover" | "failback" | "commit" | "reprotect";

/** The one operation that brings a machine closer to `desired`, or undefined when it is there and protected. */
export function nextStep(status: Pick<ItemStatus, "name" | "activeSite" | "failoverState">, desired: ActiveSite): Step | undefined {
  switch (status.failoverState) {
    case "Migrated":
      throw new Error(`'${status.name}' was migrated and is no longer protected: it cannot be moved between sites any more`);
    case "FailedOver":
    case "FailedBack":
      return "commit";
    case "Committed":
    case "FailbackCommitted":
      return "reprotect";
    case "Reprotected":
      return desired === "primary" ? "failback" : undefined;
    default:
      return desired === "recovery" ? "failover" : undefined;
  }
}

const intentOf = (inputs: Props): FailoverIntent => IntentSchema.parse(inputs.failover ?? {});
const failbackOf = (inputs: Props): FailbackRequest => FailbackSchema.parse(inputs.failback ?? {});

/** The run (or its preview) that moves machines to `desired`: the intent's failover, or a failback, which is always planned. */
function moveRequest(inputs: Props, desired: ActiveSite) {
  return desired === "recovery"
    ? { ...intentOf(inputs), direction: "primary-to-recovery" as const }
    : { type: "planned" as const, direction: "recovery-to-primary" as const };
}

/** The machines of a target, as the engine reports them now; undefined when the target does not exist yet. */
async function machines(engine: EngineClient, target: Target): Promise<ItemStatus[] | undefined> {
  if (target.kind === "item") {
    const status = await unlessMissing(engine.item(target.name));
    return status && [status];
  }
  const plan = await unlessMissing(engine.getPlan(target.name));
  return plan && Promise.all(plan.groups.flatMap((g) => g.items).map((item) => engine.item(item)));
}

/** Where a target's machines run: one site, or "mixed" while a plan's machines are split. */
export async function observedSite(engine: EngineClient, target: Target): Promise<ActiveSite | "mixed" | undefined> {
  const all = await machines(engine, target);
  if (!all?.length) return undefined;
  const sites = new Set(all.map((m) => m.activeSite));
  return sites.size === 1 ? all[0].activeSite : "mixed";
}

/** What `failoverImpact` holds in a preview: the engine's resolved plan of the move, or why it is unknown. */
export type ImpactReport = ({ known: true; summary: string[] } & FailoverImpact) | { known: false; reason: string };

/** The data a machine's move would lose, in words: one figure, or the range of a failover that captures its own point. */
function lossText(i: ItemImpact): string {
  const down = i.ifSourceDown;
  if (down) {
    const fallback = down.point ? ` (the age of the latest point, ${down.point.id})` : "";
    const worst = down.dataLossSeconds === null ? "an unknown amount" : `up to ${down.dataLossSeconds} s${fallback}`;
    return `data loss 0 s if the source answers at failover (a final sync), ${worst} if it does not`;
  }
  return i.expectedDataLossSeconds === null ? "expected data loss unknown" : `expected data loss ${i.expectedDataLossSeconds} s`;
}

function summarize(impact: FailoverImpact): string[] {
  return impact.groups.flatMap((group) =>
    group.items.map((i) => {
      const point = i.point ? `point ${i.point.id} captured ${i.point.capturedAt}${i.point.appConsistent ? " (app-consistent)" : ""}` : i.pointOption;
      return `group ${group.order}: ${i.item} ${impact.type} ${impact.direction}: ${i.refusal ? `REFUSED: ${i.refusal}` : `${point}, ${lossText(i)}`}`;
    }),
  );
}

/**
 * The impact of moving a target to its desired site, for check() to show in a preview; undefined when
 * nothing would move (no intent, already there, or a target the run is about to create).
 */
export async function impactOf(
  engine: EngineClient | undefined,
  target: Target,
  inputs: Props,
  unreachable = "the engine is not running",
): Promise<ImpactReport | undefined> {
  const desired = inputs.activeSite as ActiveSite | undefined;
  if (desired === undefined || containsUnknown([desired, target.name, inputs.failover, inputs.failback])) return undefined;
  if (!engine) return { known: false, reason: `${unreachable}: the failover's impact is unknown` };
  try {
    const now = await observedSite(engine, target);
    if (now === undefined || now === desired) return undefined;
    const request = moveRequest(inputs, desired);
    const impact = target.kind === "item" ? await engine.failoverPreview(target.name, request) : await engine.planPreview(target.name, request);
    return { known: true, summary: summarize(impact), ...impact };
  } catch (error) {
    return { known: false, reason: `the engine could not say: ${(error as Error).message}` };
  }
}

/**
 * Outputs after a create, update or read: the preview's impact is spent once the move is done (or was
 * never needed), so it does not come back as the old side of the next preview's diff.
 */
export const NO_IMPACT = { failoverImpact: undefined };

/** The inputs a preview shows: the impact when something would move (a Struct holds no undefined). */
export const impactInputs = (impact: ImpactReport | undefined): Props => (impact ? { failoverImpact: impact } : {});

/** Moves every machine of the target to the desired site and protects it again there (see nextStep). */
export async function reconcile(engine: EngineClient, target: Target, inputs: Props): Promise<void> {
  const desired = inputs.activeSite as ActiveSite | undefined;
  if (desired === undefined) return;
  // Each pass makes every machine one step closer; five steps take any state to protected at either site.
  for (let pass = 0; pass < 6; pass++) {
    const all = (await machines(engine, target)) ?? [];
    const steps = all.map((m) => ({ name: m.name, step: nextStep(m, desired) })).filter((s) => s.step !== undefined);
    if (steps.length === 0) return;
    // Commits and reprotects first (they finish earlier moves); the next pass makes the move itself.
    const finishing = steps.filter((s) => s.step === "commit" || s.step === "reprotect");
    for (const { name, step } of finishing) succeeded(await (step === "commit" ? engine.commit(name) : engine.reprotect(name)));
    if (finishing.length > 0) continue;
    if (target.kind === "plan") {
      succeeded(await engine.runPlan(target.name, moveRequest(inputs, desired)));
    } else if (desired === "recovery") {
      succeeded(await engine.failover(target.name, intentOf(inputs)));
    } else {
      succeeded(await engine.failback(target.name, failbackOf(inputs)));
    }
  }
  throw new Error(`'${target.name}' did not reach the ${desired} site after every step; run 'lifeboat status' to see where it stands`);
}
