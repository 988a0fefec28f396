import type { Vault } from "../vault";
import { ConflictError, EngineError, NotFoundError, errorMessage } from "../errors";
import { Job, type JobView } from "../jobs/jobs";
import { hooksOf, itemRowById, recoveryOf, type ItemRow } from "../inventory/items";
import { assertAllowed, failoverFlags } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { runHook } from "../disks/hooks";
import { replicateWindow } from "../replication/cycle";
import { agentHostOf, type AgentHost } from "../inventory/hosts";
import { pointView, type PointView } from "../replication/points";
import { ValidationError, type FailoverRequest, type PointOption } from "../../schema";
import { resolvePoints } from "./point-options";
import { latestIsDamaged } from "../replication/damage";
import { planTarget } from "./targets";
import { createMachine, machineDetails, machineOf, removeHalfMadeMachine, removeMachine, startMachine } from "./machines";
import { findJob, updateJob } from "../catalog/jobs";
import { deletePointsOfItem } from "../catalog/points";

export interface FailoverOutcome {
  item: string;
  type: FailoverRequest["type"];
  point: { id: string; capturedAt: string; kind: string };
  /** Seconds of source writes the point does not hold, at most: 0 for a planned failover. */
  dataLossWindowSeconds: number;
  sourceShutdown: "not requested" | "done" | "failed";
  machine: { name: string; dir: string; state: string; ip: string | null };
  notes: string[];
}

/** Checks that change nothing: a failover of this item may start. */
export function assertCanFailOver(item: ItemRow, request: FailoverRequest): void {
  if (!recoveryOf(item))
    throw new EngineError("NoRecoveryTarget", `'${item.name}' has no recovery settings (protect it with --recovery-site)`, { field: "recovery" });
  assertAllowed(item, "failover");
  if (request.type === "planned" && !hooksOf(item).shutdown) {
    throw ValidationError.refused(
      "type",
      `a planned failover of '${item.name}' shuts the source down first: give it a shutdown command (--shutdown-cmd), or run an unplanned failover`,
    );
  }
}

/** Every check a failover of this item makes before its job starts; answers the agent that reads it, if any. */
export async function assertFailoverAllowed(vault: Vault, item: ItemRow, request: FailoverRequest): Promise<AgentHost | null> {
  assertCanFailOver(item, request);
  const agent = await agentHostOf(vault, item);
  if (agent && (request.type === "planned" || request.shutdownSource)) {
    throw ValidationError.refused(
      request.type === "planned" ? "type" : "shutdownSource",
      `'${item.name}' runs on host ${agent.name}, whose agent reads it: shut it down there, let the agent ship a last point, then run an unplanned failover`,
    );
  }
  // The final sync would rely on the same damaged copies, and the source would be down by then.
  if (request.type === "planned" && (await latestIsDamaged(vault, item.id))) {
    throw new EngineError(
      "ReplicaDamaged",
      `the latest recovery point of '${item.name}' is damaged (found by verify), so a planned failover could not restore its final sync; run 'lifeboat resync ${item.name}' first, or an unplanned failover to an undamaged point`,
      { field: "type" },
    );
  }
  return agent;
}

/** Whether the failover captures its own point (planned: the final sync; "latest": what the source still has). The engine cannot read an agent's disks. */
export const capturesAtFailover = (agent: AgentHost | null, request: FailoverRequest): boolean =>
  !agent && (request.type === "planned" || request.point === "latest");

/**
 * capturesAtFailover, and for an unplanned failover to "latest" not when the latest point is damaged: a
 * capture would rely on the same damaged copies, so the latest undamaged point is used (with this note).
 */
export async function captureAtFailover(
  vault: Vault,
  item: ItemRow,
  agent: AgentHost | null,
  request: FailoverRequest,
): Promise<{ capture: boolean; note?: string }> {
  if (!capturesAtFailover(agent, request)) return { capture: false };
  if (request.type === "unplanned" && (await latestIsDamaged(vault, item.id))) {
    return {
      capture: false,
      note: "the latest point is damaged (found by verify) and a capture now would rely on the same damaged blocks: using the latest undamaged point",
    };
  }
  return { capture: true };
}

const SHUTDOWN = "Shut down source";
const SYNC = "Synchronize";
const PREPARE = "Prepare data";
const START = "Start";
const REMOVE = "Remove machine";

/**
 * Fail a machine over to its recovery site. Planned: shut the source down (refusing when that fails),
 * ship what remains, and fail over to that point (no data lost). Unplanned: optionally try to shut the
 * source down, then use the chosen point ("latest" first tries to capture what the source still has).
 * Cancel is honoured before the start task and leaves the item at the primary site, ready to try again.
 */
export async function failover(vault: Vault, item: ItemRow, request: FailoverRequest): Promise<JobView> {
  const agent = await assertFailoverAllowed(vault, item, request);
  const shutdown = request.type === "planned" || request.shutdownSource;
  // The engine cannot read an agent's disks: "latest" is the latest point the agent shipped.
  const { capture, note } = await captureAtFailover(vault, item, agent, request);
  const plan = ["Prerequisites check", ...(shutdown ? [SHUTDOWN] : []), ...(capture ? [SYNC] : []), PREPARE, START];
  const job = await Job.start(vault.db, vault.clock, "Failover", item.name, plan);
  const notes: string[] = note ? [note] : [];
  if (agent && request.point === "latest") notes.push(`the agent on host ${agent.name} reads the source: its latest shipped point is used`);
  let shutdownResult: FailoverOutcome["sourceShutdown"] = "not requested";
  try {
    await job.step("Prerequisites check", async () => assertCanFailOver(await itemRowById(vault, item.id), request));
    if (shutdown) {
      shutdownResult = await job.step(SHUTDOWN, async () => {
        try {
          await runHook(`${item.name} shutdown`, hooksOf(item).shutdown!, { LIFEBOAT_ITEM: item.name });
          return "done" as const;
        } catch (error) {
          if (request.type === "planned")
            throw new EngineError("SourceUnreachable", `the source could not be shut down, so a planned failover is refused: ${errorMessage(error)}`);
          notes.push(`shutting the source down failed (${errorMessage(error)}); failing over anyway`);
          return "failed" as const;
        }
      });
    }
    let point: PointView | undefined;
    if (capture) {
      point = await job.step(SYNC, async () => {
        let made: PointView;
        try {
          [made] = await replicateWindow(vault, [await itemRowById(vault, item.id)], { appConsistent: false, stopped: shutdownResult === "done" });
        } catch (error) {
          if (request.type === "planned")
            throw new EngineError(
              "SourceUnreachable",
              `the remaining changes could not be shipped, so a planned failover is refused (the source stays shut down): ${errorMessage(error)}`,
            );
          notes.push(`capturing the latest data failed (${errorMessage(error)}); using the latest processed point`);
          return undefined;
        }
        if (!made.damaged) return made;
        // It relies on copies damaged since the last verify (recordWindow read them back).
        if (request.type === "planned")
          throw new EngineError(
            "ReplicaDamaged",
            `the final sync ${made.id} relies on blocks found damaged in the store, so a planned failover is refused (the source stays shut down); run 'lifeboat resync ${item.name}'`,
          );
        notes.push(`the captured point ${made.id} relies on blocks found damaged in the store; using the latest undamaged point`);
        return undefined;
      });
    }
    if (!point) point = await chosenPoint(vault, item, request.point);
    if (await cancelled(job, notes, shutdownResult)) return await job.view();
    const chosen = point;
    const machine = await job.step(PREPARE, async (task) => createMachine(vault, item, chosen.id, await planTarget(vault, item, "failover"), "failover", task));
    if (await cancelled(job, notes, shutdownResult, async () => removeMachine(vault, item, machine))) return await job.view();
    await job
      .step(START, () => startMachine(vault, item, machine))
      .catch(async (error) => {
        await removeMachine(vault, item, machine);
        throw error;
      });
    await writeItemState(vault.db, item.id, "failover", { also: { failover_point: chosen.id } });
    const d = machineDetails((await machineOf(vault, item, "failover"))!);
    const outcome: FailoverOutcome = {
      item: item.name,
      type: request.type,
      point: d.point,
      dataLossWindowSeconds: request.type === "planned" ? 0 : Math.max(0, Math.round((vault.clock.now() - Date.parse(chosen.capturedAt)) / 1000)),
      sourceShutdown: shutdownResult,
      machine: { name: d.name, dir: d.dir, state: d.state, ip: d.nics[0]?.ip ?? null },
      notes,
    };
    await job.finish("Succeeded", outcome);
  } catch (error) {
    await job.fail(error);
  }
  return await job.view();
}

/**
 * After the process running a failover died mid-way. One that got through (the item is failed over) is
 * left for commit or change-point; otherwise the half-made recovery machine goes and the item stays at
 * the primary site, from which the failover can run again.
 */
export async function afterInterruptedFailover(vault: Vault, item: ItemRow, done: Set<string>): Promise<string | undefined> {
  if (item.failover_state !== null) return undefined;
  const removed = await removeHalfMadeMachine(vault, item, "failover");
  const source = done.has(SHUTDOWN) ? "the source was shut down and stays so" : "the item stays active at the primary site and keeps replicating";
  return [removed, `${source}; the failover can run again`].filter(Boolean).join("; ");
}

/** The existing point an option names for this item ("latest" falls back to the latest processed point). */
export async function chosenPoint(vault: Vault, item: ItemRow, option: PointOption): Promise<PointView> {
  const row = (await resolvePoints(vault, [item], option === "latest" ? "latest-processed" : option)).get(item.id)!;
  return pointView(vault, row, item.name);
}

/** Honour a cancel request between tasks: undo what was prepared and end the job Cancelled. */
async function cancelled(job: Job, notes: string[], shutdown: FailoverOutcome["sourceShutdown"], undo?: () => Promise<void>): Promise<boolean> {
  if (!(await job.cancelRequested())) return false;
  await undo?.();
  const state =
    shutdown === "done"
      ? "the source was shut down and stays so; start it, or run the failover again"
      : "the item stays active at the primary site and keeps replicating";
  await job.finish("Cancelled", { cancelled: true, state, notes });
  return true;
}

/** Ask a running failover, drill or failback to stop before its start task (a verify stops where it is). */
export async function requestCancel(vault: Vault, jobId: string): Promise<void> {
  const job = await findJob(vault.db, jobId);
  if (!job) throw new NotFoundError("job", jobId, "id");
  if (job.state !== "InProgress") throw new ConflictError(`job '${jobId}' is ${job.state}; only a running job can be cancelled`, "id");
  if (!["Failover", "TestFailover", "Failback", "Verify"].includes(job.type)) throw new ConflictError(`a ${job.type} job cannot be cancelled`, "id");
  await updateJob(vault.db, jobId, { cancel_requested: 1 });
}

/** After a failover and before commit: bring the recovery machine up again from another point. */
export async function changeRecoveryPoint(vault: Vault, item: ItemRow, option: PointOption): Promise<JobView> {
  assertAllowed(item, "changePoint");
  const point = await chosenPoint(vault, item, option);
  const job = await Job.start(vault.db, vault.clock, "ChangeRecoveryPoint", item.name, [REMOVE, PREPARE, START]);
  await job
    .run(async () => {
      await job.step(REMOVE, async () => {
        const current = await machineOf(vault, item, "failover");
        if (current) await removeMachine(vault, item, current);
      });
      const machine = await job.step(PREPARE, async (task) =>
        createMachine(vault, item, point.id, await planTarget(vault, item, "failover"), "failover", task),
      );
      await job.step(START, () => startMachine(vault, item, machine));
      await writeItemState(vault.db, item.id, "changePoint", { also: { failover_point: point.id } });
      return { item: item.name, point: { id: point.id, capturedAt: point.capturedAt, kind: point.kind } };
    })
    .catch(() => undefined);
  return await job.view();
}

/** After the process changing the recovery point died mid-way: the item stays failed over, its machine maybe gone. */
export async function afterInterruptedPointChange(_vault: Vault, item: ItemRow, done: Set<string>): Promise<string | undefined> {
  return `${done.has(REMOVE) ? "the recovery machine was removed and no new one started; " : ""}run 'lifeboat change-point ${item.name}' again`;
}

/**
 * Commit a failover (or a failback): the item's recovery points are deleted and the point can no longer
 * be changed. Committing a failback also removes the machine at the recovery site.
 */
export async function commitFailover(vault: Vault, item: ItemRow): Promise<JobView> {
  assertAllowed(item, "commit");
  // Back at the primary: a failback is committed, and its recovery machine goes.
  const failback = failoverFlags(item.failover_state).site === "primary";
  const job = await Job.start(vault.db, vault.clock, "Commit", item.name, ["Delete recovery points", ...(failback ? ["Remove recovery machine"] : [])]);
  await job
    .run(async () => {
      const deleted = await job.step("Delete recovery points", async () => {
        const deleted = await deletePointsOfItem(vault.db, item.id);
        await writeItemState(vault.db, item.id, "commit", { also: { failover_point: null } });
        return deleted;
      });
      if (failback) {
        await job.step("Remove recovery machine", async () => {
          const machine = await machineOf(vault, item, "failover");
          if (machine) await removeMachine(vault, item, machine);
        });
      }
      return { item: item.name, pointsDeleted: deleted, activeSite: item.active_site };
    })
    .catch(() => undefined);
  return await job.view();
}

/** Complete a migration: the failed-over machine stays where it is; the item is no longer protected. */
export async function completeMigration(vault: Vault, item: ItemRow): Promise<JobView> {
  assertAllowed(item, "migrate");
  const job = await Job.start(vault.db, vault.clock, "Migrate", item.name, ["Complete migration"]);
  await job
    .run(() =>
      job.step("Complete migration", async () => {
        const deleted = await deletePointsOfItem(vault.db, item.id);
        await writeItemState(vault.db, item.id, "migrate", { also: { failover_point: null } });
        return { item: item.name, pointsDeleted: deleted, migrated: true };
      }),
    )
    .catch(() => undefined);
  return await job.view();
}
