import type { Vault } from "../vault";
import { ConflictError, EngineError, errorMessage } from "../errors";
import { Job, jobView, SuspendSignal, type JobView, type Task } from "../jobs/jobs";
import { itemRow, type ItemRow } from "../inventory/items";
import { allows } from "../inventory/item-state";
import { runHook } from "../disks/hooks";
import { ValidationError, type Direction, type PlanAction, type PlanRunRequest, type PlanSpec } from "../../schema";
import { testFailover } from "../failover/drill";
import { failover } from "../failover/failover";
import { failback } from "../failover/failback";
import { resolvePoints, type PointRow } from "../failover/point-options";
import { getPlan } from "./plans";

export type Run = PlanRunRequest & { direction: Direction };

/** What the job keeps while it runs or waits, so `jobs resume` can carry on. */
interface PlanJobState {
  plan: string;
  run: Run;
  /** Points chosen for the whole plan at its start (multi-VM options need every machine at once). */
  points: Record<string, string>;
  waitingFor?: { group: number; action: string; instructions: string | null };
}

const groupTask = (n: number) => `Group ${n}`;
const actionTask = (when: "Before" | "After", a: PlanAction) => `${when}: ${a.name}`;
const applies = (a: PlanAction, run: Run) => a.failoverTypes.includes(run.type) && a.directions.includes(run.direction);
const machineTask = (run: Run, item: string) =>
  `${run.type === "test" ? "Test failover" : run.direction === "primary-to-recovery" ? "Failover" : "Failback"} ${item}`;

/**
 * Run a recovery plan: groups in order; the machines of a group fail over in parallel; each group's
 * applicable actions run before and after it. A manual action suspends the job (WaitingForManualAction)
 * until `jobs resume`. Unplanned and test runs go to the end and report every failure; a planned run
 * stops at the first.
 */
export async function runPlan(vault: Vault, name: string, request: PlanRunRequest): Promise<JobView> {
  const { plan, items } = await planMachines(vault, name);
  const { run, points } = await prepareRun(vault, name, items, request);
  const state: PlanJobState = { plan: name, run, points: Object.fromEntries(items.filter((i) => points.has(i.id)).map((i) => [i.name, points.get(i.id)!.id])) };
  const job = await Job.start(
    vault.db,
    vault.clock,
    "RecoveryPlan",
    name,
    plan.groups.map((_, i) => groupTask(i + 1)),
  );
  return runPlanSteps(vault, job, plan, state);
}

/** Continue a plan job suspended at a manual action. */
export async function resumePlan(vault: Vault, jobId: string): Promise<JobView> {
  const view = await jobView(vault.db, jobId);
  if (view.type !== "RecoveryPlan" || view.state !== "Suspended")
    throw new ConflictError(`job '${jobId}' is a ${view.type} job in state ${view.state}; only a suspended recovery plan can be resumed`, "id");
  const state = view.result as PlanJobState;
  return runPlanSteps(vault, await Job.resume(vault.db, vault.clock, jobId), await getPlan(vault, state.plan), { ...state, waitingFor: undefined });
}

/** A plan and its machines, in plan order (an unknown plan or machine is NotFound). */
export async function planMachines(vault: Vault, name: string): Promise<{ plan: PlanSpec; items: ItemRow[] }> {
  const plan = await getPlan(vault, name);
  return { plan, items: await Promise.all(plan.groups.flatMap((g) => g.items).map((i) => itemRow(vault, i))) };
}

/**
 * What a run settles before its job starts, refusing the whole run when it cannot go: the direction, that
 * every machine to fail back replicates back, and the points of the whole plan at once (multi-VM options
 * need every machine together; "latest" is captured by each machine's own failover).
 */
export async function prepareRun(vault: Vault, name: string, items: ItemRow[], request: PlanRunRequest): Promise<{ run: Run; points: Map<number, PointRow> }> {
  const run: Run = { ...request, direction: request.direction ?? inferDirection(name, items) };
  if (run.direction === "recovery-to-primary" && run.type === "unplanned")
    throw ValidationError.refused("type", "going back to the primary site is a planned failback; run the plan with --type planned");
  const movable = items.filter((i) => i.active_site === (run.direction === "primary-to-recovery" ? "primary" : "recovery"));
  if (run.direction === "recovery-to-primary" && run.type !== "test") {
    const missing = movable.filter((i) => !allows(i, "failback")).map((i) => i.name);
    if (missing.length)
      throw new ConflictError(`failback needs every machine of the plan replicating back with a recovery point; not yet: ${missing.join(", ")}`, "name");
  }
  const points =
    run.direction === "primary-to-recovery" && run.point !== "latest" ? await resolvePoints(vault, movable, run.point) : new Map<number, PointRow>();
  return { run, points };
}

function inferDirection(plan: string, items: ItemRow[]): Direction {
  const sites = new Set(items.map((i) => i.active_site));
  if (sites.size > 1)
    throw new ConflictError(`some machines of '${plan}' are active at the recovery site and some at the primary; choose a direction`, "direction");
  return sites.has("recovery") ? "recovery-to-primary" : "primary-to-recovery";
}

/** Walk the plan; steps already done (before a suspension) are skipped, so resuming is walking again. */
async function runPlanSteps(vault: Vault, job: Job, plan: PlanSpec, state: PlanJobState): Promise<JobView> {
  const { run } = state;
  const failures: string[] = [];
  const stopAtFirst = run.type === "planned";
  try {
    for (const [gi, group] of plan.groups.entries()) {
      const name = groupTask(gi + 1);
      const done = await job.findTask(name, null);
      if (done?.state === "Failed") failures.push(`${name}: ${done.error_message}`); // before a suspension
      if (done?.state === "Succeeded" || done?.state === "Failed") continue;
      await job
        .step(name, async (task) => {
          const before = group.before.filter((a) => applies(a, run));
          const after = group.after.filter((a) => applies(a, run));
          await task.plan([
            ...before.map((a) => actionTask("Before", a)),
            ...group.items.map((i) => machineTask(run, i)),
            ...after.map((a) => actionTask("After", a)),
          ]);
          const groupFailures: string[] = [];
          const attempt = async (label: string, body: () => Promise<unknown>) => {
            try {
              await once(task, label, body);
            } catch (error) {
              if (error instanceof SuspendSignal || stopAtFirst) throw error;
              groupFailures.push(`${label}: ${errorMessage(error)}`);
            }
          };
          for (const a of before) await attempt(actionTask("Before", a), () => runAction(a, gi + 1, state));
          await Promise.all(group.items.map((i) => attempt(machineTask(run, i), () => moveMachine(vault, i, state))));
          for (const a of after) await attempt(actionTask("After", a), () => runAction(a, gi + 1, state));
          if (groupFailures.length) throw new EngineError("PlanGroupFailed", groupFailures.join("; "));
        })
        .catch((error) => {
          if (error instanceof SuspendSignal || stopAtFirst) throw error;
          failures.push(`${name}: ${errorMessage(error)}`);
        });
    }
  } catch (error) {
    if (error instanceof SuspendSignal) {
      await job.finish("Suspended", state);
      return await job.view();
    }
    await job.fail(error);
    return await job.view();
  }
  if (failures.length) await job.fail(new EngineError("PlanFailed", `${failures.length} group(s) had failures: ${failures.join(" | ")}`));
  else await job.finish("Succeeded", { plan: state.plan, type: run.type, direction: run.direction });
  return await job.view();

  /** Run a step unless it already finished; a suspended manual action that is run again has been done by its operator. */
  async function once(task: Task, label: string, body: () => Promise<unknown>): Promise<void> {
    const status = await task.stateOf(label);
    if (status === "Succeeded") return;
    if (status === "Failed") throw new EngineError("StepFailed", `failed earlier`);
    await task.child(label, async () => {
      if (status === "Suspended") return; // resumed: the person has done it
      await body();
    });
  }

  async function runAction(action: PlanAction, group: number, s: PlanJobState): Promise<void> {
    if (action.kind === "manual") {
      s.waitingFor = { group, action: action.name, instructions: action.instructions ?? null };
      throw new SuspendSignal(`WaitingForManualAction: ${action.instructions ?? action.name}`);
    }
    await runHook(
      `plan action '${action.name}'`,
      action.command!,
      {
        LIFEBOAT_PLAN: s.plan,
        LIFEBOAT_GROUP: String(group),
        LIFEBOAT_FAILOVER_TYPE: s.run.type,
        LIFEBOAT_DIRECTION: s.run.direction,
        LIFEBOAT_RUN_AT: action.runAt,
      },
      action.timeoutSeconds * 1000,
    );
  }
}

/** Fail one machine over (or back, or test it) as the run says; each is a job of its own, linked by name. */
async function moveMachine(vault: Vault, name: string, state: PlanJobState): Promise<void> {
  const { run } = state;
  const item = await itemRow(vault, name);
  const point = state.points[name] ?? run.point;
  let job: JobView;
  if (run.type === "test") job = await testFailover(vault, item, point);
  else if (run.direction === "primary-to-recovery") {
    if (item.active_site === "recovery") return; // already there
    job = await failover(vault, item, { type: run.type, point, shutdownSource: run.shutdownSource });
  } else {
    if (item.active_site === "primary") return;
    job = await failback(vault, item, { location: "original", fullDownload: false });
  }
  if (job.state !== "Succeeded") throw new EngineError(job.error?.code ?? "Failed", `${job.type} job ${job.id}: ${job.error?.message ?? job.state}`);
}
