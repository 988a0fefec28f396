import { ValidationError } from "../../schema";
import * as path from "node:path";
import type { Vault } from "../vault";
import { EngineError } from "../errors";
import { Job, type JobView } from "../jobs/jobs";
import { hooksOf, includedDisks, itemRowById, type ItemRow } from "../inventory/items";
import { assertAllowed } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { runHook } from "../disks/hooks";
import { replicateWindow } from "../replication/cycle";
import { latestPointRow } from "../replication/points";
import { latestIsDamaged } from "../replication/damage";
import type { FailbackRequest } from "../../schema";
import { applyPoint } from "./apply";
import { machineOf, stopMachine } from "./machines";
import { updateDisk } from "../catalog/disks";

export interface FailbackOutcome {
  item: string;
  location: "original" | "alternate";
  disks: Array<{ name: string; path: string }>;
  /** Bytes written to the primary disks: while the recovery machine ran, then after it stopped. */
  bytesTransferred: number;
  preSyncBytes: number;
  finalBytes: number;
  diskBytes: number;
  point: string;
  /** The machine runs as its own generation again (it ran as generation 1 at the recovery site). */
  generation: number;
  primaryStarted: boolean;
}

/** Checks that change nothing: a failback of this item may start. */
export async function assertCanFailBack(vault: Vault, item: ItemRow): Promise<void> {
  assertAllowed(item, "failback");
  if (!(await latestPointRow(vault, item.id)))
    throw new EngineError("NoRecoveryPoint", `failback of '${item.name}' needs at least one recovery point from the recovery site`, { field: "name" });
  // Its writes and final sync would rely on the damaged copies, after the recovery machine is stopped.
  if (await latestIsDamaged(vault, item.id)) {
    throw new EngineError(
      "ReplicaDamaged",
      `the latest recovery point of '${item.name}' is damaged (found by verify), so a failback could not write it; run 'lifeboat resync ${item.name}' first`,
      { field: "name" },
    );
  }
}

const STOP_RECOVERY = "Shut down recovery machine";
const START_PRIMARY = "Start at primary";

/**
 * After the process running a failback died mid-way: nothing needs undoing (it runs again from where the
 * item is), but once the recovery machine was stopped and before the primary started, neither runs.
 */
export async function afterInterruptedFailback(_vault: Vault, item: ItemRow, done: Set<string>): Promise<string | undefined> {
  const down = done.has(STOP_RECOVERY) && !done.has(START_PRIMARY);
  return `${down ? "the recovery machine was stopped and the primary not started: neither runs; " : ""}run 'lifeboat failback ${item.name}' again`;
}

/**
 * Failback: a planned failover from the recovery site to the primary. Original location: the primary
 * disks are brought up to date by delta while the recovery machine keeps running, then it is shut down,
 * its last changes are shipped and written (only differing blocks; every block with fullDownload), and
 * the primary machine is started. Alternate location: full download into new disks in another directory.
 */
export async function failback(vault: Vault, item: ItemRow, request: FailbackRequest): Promise<JobView> {
  await assertCanFailBack(vault, item);
  if (request.location === "original" && item.qmp !== null) {
    throw ValidationError.refused(
      "location",
      `'${item.name}' is served by QEMU: writing its block nodes back in place is not supported yet; fail back to new disk files (alternate location) and attach them to QEMU`,
    );
  }
  const delta = request.location === "original" && !request.fullDownload;
  const plan = [
    "Prerequisites check",
    ...(delta ? ["Synchronize while running"] : []),
    STOP_RECOVERY,
    "Final synchronization",
    "Write disks at primary",
    START_PRIMARY,
  ];
  const job = await Job.start(vault.db, vault.clock, "Failback", item.name, plan);
  await job
    .run(async () => {
      const disks = await job.step("Prerequisites check", async () => {
        await assertCanFailBack(vault, await itemRowById(vault, item.id));
        return includedDisks(vault, item.id);
      });
      const targets = disks.map((d) => ({
        diskId: d.id,
        name: d.name,
        path: request.location === "alternate" ? path.join(request.alternateDir!, d.name) : (d.primary_path ?? d.path),
      }));
      let preSyncBytes = 0;
      if (delta) {
        const latest = (await latestPointRow(vault, item.id))!;
        preSyncBytes = (await job.step("Synchronize while running", (task) => applyPoint(vault, latest.id, targets, { full: false }, task))).bytesWritten;
      }
      await job.step(STOP_RECOVERY, async () => {
        const machine = await machineOf(vault, item, "failover");
        if (machine) await stopMachine(vault, item, machine);
      });
      const [point] = await job.step("Final synchronization", async () => {
        const made = await replicateWindow(vault, [await itemRowById(vault, item.id)], { appConsistent: false, stopped: true });
        if (made[0].damaged)
          throw new EngineError(
            "ReplicaDamaged",
            `the final sync ${made[0].id} relies on blocks found damaged in the store; the primary disks are left as they are: run 'lifeboat resync ${item.name}', then fail back again`,
          );
        return made;
      });
      const written = await job.step("Write disks at primary", (task) => applyPoint(vault, point.id, targets, { full: !delta }, task));
      const start = hooksOf(item).start;
      await job.step(START_PRIMARY, async () => {
        if (start) await runHook(`${item.name} start`, start, { LIFEBOAT_ITEM: item.name });
      });
      await vault.db.transaction().execute(async (trx) => {
        for (const t of targets) await updateDisk(trx, t.diskId, { primary_path: t.path });
        await writeItemState(trx, item.id, "failback", { also: { failover_point: point.id } });
      });
      const outcome: FailbackOutcome = {
        item: item.name,
        location: request.location,
        disks: targets.map((t) => ({ name: t.name, path: t.path })),
        bytesTransferred: preSyncBytes + written.bytesWritten,
        preSyncBytes,
        finalBytes: written.bytesWritten,
        diskBytes: point.disks.reduce((total, d) => total + d.size, 0),
        point: point.id,
        generation: item.generation,
        primaryStarted: Boolean(start),
      };
      return outcome;
    })
    .catch(() => undefined);
  return await job.view();
}
