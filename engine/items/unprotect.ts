import type { Vault } from "../vault";
import { ConflictError } from "../errors";
import { Job, type JobView } from "../jobs/jobs";
import { itemRowById, type ItemRow } from "../inventory/items";
import { assertAllowed } from "../inventory/item-state";
import { forgetMachine, machineOf, removeMachine } from "../failover/machines";
import { findJobOf } from "../catalog/jobs";
import { deletePointsOfItem } from "../catalog/points";
import { allDisks, deleteDisksOfItem } from "../catalog/disks";
import { stopTracking } from "../tracking/stop-tracking";
import { nbdSocketFor } from "../tracking/disk-source";
import { deleteItemDrills } from "../catalog/drills";
import { deleteItem } from "../catalog/items";

const STOP_TRACKING = "Stop change tracking";

/** Jobs during which the item must not disappear. */
const MOVING = ["Failover", "Failback", "ChangeRecoveryPoint", "Commit", "Reprotect", "TestFailover", "TestFailoverCleanup", "Migrate"];

/** Checks that change nothing: protection of this item may be disabled now. */
async function assertCanUnprotect(vault: Vault, item: ItemRow): Promise<void> {
  const running = await findJobOf(vault.db, item.name, MOVING, "InProgress");
  if (running) throw new ConflictError(`a ${running.type} of '${item.name}' is in progress (job ${running.id}); wait for it to end`, "name");
  assertAllowed(item, "unprotect");
}

/**
 * Disable protection: the item, its recovery points, its replication state and its drill machine (if any)
 * are removed. The blocks only it referenced are freed by the next retention run (garbage collection).
 * A migrated machine keeps running where it is; the vault only forgets it.
 */
export async function disableProtection(vault: Vault, item: ItemRow): Promise<JobView> {
  await assertCanUnprotect(vault, item);
  const drill = await machineOf(vault, item, "drill");
  const job = await Job.start(vault.db, vault.clock, "DisableProtection", item.name, [
    "Prerequisites check",
    ...(drill ? ["Remove test machine"] : []),
    "Delete recovery points and replication state",
    ...(item.qmp !== null ? [STOP_TRACKING] : []),
  ]);
  await job
    .run(async () => {
      await job.step("Prerequisites check", async () => assertCanUnprotect(vault, await itemRowById(vault, item.id)));
      if (drill) await job.step("Remove test machine", () => removeMachine(vault, item, drill));
      const kept = await machineOf(vault, item, "failover");
      if (kept) await forgetMachine(vault, kept);
      const disks = await allDisks(vault.db, item.id);
      const pointsDeleted = await job.step("Delete recovery points and replication state", () =>
        vault.db.transaction().execute(async (trx) => {
          const points = await deletePointsOfItem(trx, item.id);
          await deleteDisksOfItem(trx, item.id);
          await deleteItemDrills(trx, item.id);
          await deleteItem(trx, item.id);
          return points;
        }),
      );
      // After the vault forgot the machine: a QEMU that is gone must not keep it protected.
      const qmp = item.qmp;
      const left =
        qmp === null
          ? undefined
          : await job.step(STOP_TRACKING, () =>
              stopTracking(
                qmp,
                disks.map((d) => d.primary_path ?? d.path),
                nbdSocketFor(qmp),
              ),
            );
      return {
        item: item.name,
        pointsDeleted,
        drillRemoved: Boolean(drill),
        ...(kept ? { machineKept: kept.dir } : {}),
        ...(left ? { trackingLeft: left } : {}),
      };
    })
    .catch(() => undefined);
  return await job.view();
}
