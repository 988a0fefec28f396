import type { Vault } from "../vault";
import { EngineError, errorMessage } from "../errors";
import {
  ValidationError,
  type ActiveSite,
  type FailoverImpact,
  type FailoverPreviewRequest,
  type ImpactPoint,
  type ItemImpact,
  type PlanRunRequest,
} from "../../schema";
import { itemRow, type ItemRow } from "../inventory/items";
import { pointView, type PointView } from "../replication/points";
import { planMachines, prepareRun, type Run } from "./runner";
import { assertFailoverAllowed, captureAtFailover, chosenPoint } from "../failover/failover";
import { assertCanFailBack } from "../failover/failback";
import { assertNoOpenDrill } from "../failover/drill";
import type { PointRow } from "../failover/point-options";

const FINAL_SYNC = "final sync at shutdown";
const CAPTURED = "latest (captured at failover)";

/**
 * What failing one item over (or back) would do now, without doing it: the same checks and the same point
 * resolution as the operation, so the point named is the one it would use. What the operation would refuse
 * shows as the item's refusal; only an unknown item is an error.
 */
export async function previewItemFailover(vault: Vault, name: string, request: FailoverPreviewRequest): Promise<FailoverImpact> {
  const item = await itemRow(vault, name);
  const run: Run = { ...request, direction: request.direction ?? (item.active_site === "recovery" ? "recovery-to-primary" : "primary-to-recovery") };
  const impact =
    run.direction === "recovery-to-primary" && run.type === "unplanned"
      ? refused(item, run, ValidationError.refused("type", "going back to the primary site is a planned failback; preview it with type planned"))
      : await machineImpact(vault, item, run, undefined, false);
  return { direction: run.direction, type: run.type, groups: [{ order: 1, items: [impact] }] };
}

/** What running a recovery plan would do now, group by group, as the runner would do it; nothing is changed. */
export async function previewPlanRun(vault: Vault, name: string, request: PlanRunRequest): Promise<FailoverImpact> {
  const { plan, items } = await planMachines(vault, name);
  const byName = new Map(items.map((i) => [i.name, i]));
  const prepared = await prepareRun(vault, name, items, request).catch((error) => refusal(error));
  const direction = "run" in prepared ? prepared.run.direction : (request.direction ?? "primary-to-recovery");
  const run: Run = { ...request, direction };
  const groups = [];
  for (const [gi, group] of plan.groups.entries()) {
    const impacts: ItemImpact[] = [];
    for (const member of group.items) {
      const item = byName.get(member)!;
      // A refusal of the whole run applies to every machine.
      impacts.push("run" in prepared ? await machineImpact(vault, item, run, prepared.points.get(item.id), true) : refused(item, run, prepared.error));
    }
    groups.push({ order: gi + 1, items: impacts });
  }
  return { direction, type: request.type, groups };
}

/** A refusal the operation raises (bad state, no point, bad request) is a result here; anything else is a failure. */
function refusal(error: unknown): { error: Error } {
  // Bad input (a ValidationError) is an EngineError that is not recoverable, so it is a refusal too.
  if (error instanceof EngineError && error.code !== "NotFound" && !error.recoverable) return { error };
  throw error;
}

/**
 * One machine as the operation would treat it. In a plan run, machines already where the run takes them
 * are left alone; a single failover of such a machine is refused.
 */
async function machineImpact(vault: Vault, item: ItemRow, run: Run, planPoint: PointRow | undefined, inPlan: boolean): Promise<ItemImpact> {
  const activeSite = item.active_site as ActiveSite;
  const base = { item: item.name, activeSite };
  try {
    if (run.type === "test") {
      await assertNoOpenDrill(vault, item);
      return await fromPoint(vault, item, planPoint, run.point);
    }
    if (run.direction === "recovery-to-primary") {
      if (inPlan && activeSite === "primary") return { ...base, point: null, pointOption: "none: already at the primary site", expectedDataLossSeconds: 0 };
      await assertCanFailBack(vault, item);
      return { ...base, point: null, pointOption: FINAL_SYNC, expectedDataLossSeconds: 0 };
    }
    if (inPlan && activeSite === "recovery") return { ...base, point: null, pointOption: "none: already at the recovery site", expectedDataLossSeconds: 0 };
    const request = { type: run.type, point: planPoint?.id ?? run.point, shutdownSource: run.shutdownSource };
    const agent = await assertFailoverAllowed(vault, item, request);
    if (request.type === "planned") return { ...base, point: null, pointOption: FINAL_SYNC, expectedDataLossSeconds: 0 };
    const { capture, note } = await captureAtFailover(vault, item, agent, request);
    if (capture) {
      // The failover first captures what the source still has (nothing lost); if the source does not
      // answer, it comes up from the latest processed point, losing what came in since.
      const fallback = await chosenPoint(vault, item, "latest").catch(() => undefined);
      const ifSourceDown = {
        point: fallback ? impactPoint(fallback) : null,
        dataLossSeconds: fallback ? secondsSince(vault, Date.parse(fallback.capturedAt)) : null,
      };
      return { ...base, point: null, pointOption: CAPTURED, expectedDataLossSeconds: 0, ifSourceDown };
    }
    const impact = await fromPoint(vault, item, planPoint, run.point);
    return note ? { ...impact, pointOption: `latest (${note})` } : impact;
  } catch (error) {
    return refused(item, run, refusal(error).error);
  }
}

/** A machine that comes up from an existing point: the plan's choice, or the option resolved for it alone. */
async function fromPoint(vault: Vault, item: ItemRow, planPoint: PointRow | undefined, option: Run["point"]): Promise<ItemImpact> {
  const point = planPoint ? await pointView(vault, planPoint, item.name) : await chosenPoint(vault, item, option);
  return {
    item: item.name,
    activeSite: item.active_site as ActiveSite,
    point: impactPoint(point),
    pointOption: option === "latest" ? "latest (latest processed point)" : option,
    expectedDataLossSeconds: secondsSince(vault, Date.parse(point.capturedAt)),
  };
}

function refused(item: ItemRow, run: Run, error: Error): ItemImpact {
  const planned = run.type === "planned" || run.direction === "recovery-to-primary";
  return {
    item: item.name,
    activeSite: item.active_site as ActiveSite,
    point: null,
    pointOption: planned ? FINAL_SYNC : run.point,
    expectedDataLossSeconds: null,
    refusal: errorMessage(error),
  };
}

const impactPoint = (p: PointView): ImpactPoint => ({ id: p.id, capturedAt: p.capturedAt, appConsistent: p.kind === "app", multiVm: p.windowId !== null });
const secondsSince = (vault: Vault, at: number) => Math.max(0, Math.round((vault.clock.now() - at) / 1000));
