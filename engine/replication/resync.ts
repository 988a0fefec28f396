import type { Vault } from "../vault";
import { Job, type JobView } from "../jobs/jobs";
import { includedDisks, itemRowById, type ItemRow } from "../inventory/items";
import { writeItemState } from "../inventory/item-state-write";
import { holdingLock, replicateWindow, scanDisks, type Serialize, sum } from "./cycle";
import { loadPointMap } from "./manifests";
import { latestPointRow } from "./points";
import { recordFailure } from "./retry";
import { recheckDamage } from "./damage";

export interface ResyncResult {
  /** Blocks whose source content differs from the replica. */
  differingBlocks: number;
  /** Stored copies that were damaged or missing and have been written again (block ids). */
  repairedBlocks: string[];
  /** Damage found by verify that reads back intact now (these and earlier repairs); points relying on the rest stay damaged. */
  damageCleared: number;
  bytesRead: number;
  bytesStored: number;
  point: string;
}

/**
 * Resync: compare fixed-block checksums of every source block with the replica (the latest recovery
 * point, each stored copy read back and verified once), ship only what differs or is damaged, then take
 * a consistent window for a fresh recovery point. Damage verify recorded is read back again after, and
 * what now reads intact is cleared; older points relying on blocks no source has any more stay damaged.
 */
export async function resync(vault: Vault, item: ItemRow, locked: Serialize = holdingLock): Promise<JobView> {
  const job = await locked(() => Job.start(vault.db, vault.clock, "Resync", item.name, ["Compare source and replica", "Create recovery point"]));
  try {
    await locked(() => writeItemState(vault.db, item.id, "resync"));
    const latest = await latestPointRow(vault, item.id);
    // A replica that cannot be read (broken chain) counts as empty: everything is compared and shipped.
    const replicaOf = (diskId: number) => (latest ? loadPointMap(vault, latest.id, diskId).catch(() => null) : Promise.resolve(null));
    const disks = await includedDisks(vault, item.id);
    const scans = await job.step("Compare source and replica", (task) => scanDisks(vault, item, disks, "verify", (d) => replicaOf(d.id), task, locked));
    const [point] = await job.step("Create recovery point", async () =>
      replicateWindow(vault, [await itemRowById(vault, item.id)], { appConsistent: false, recordWith: locked }),
    );
    const result: ResyncResult = {
      differingBlocks: sum(scans, (s) => s.blocksChanged),
      repairedBlocks: scans.flatMap((s) => s.repaired),
      bytesRead: sum(scans, (s) => s.bytesRead),
      bytesStored: sum(scans, (s) => s.bytesStored) + point.bytesStored,
      point: point.id,
      damageCleared: (await locked(() => recheckDamage(vault))).length,
    };
    await job.finish("Succeeded", result);
  } catch (error) {
    // It puts the resync back to ResyncRequired, with the reason a broken chain or pending data gives.
    await locked(async () => recordFailure(vault, [await itemRowById(vault, item.id)], error));
    await job.fail(error);
  }
  return await job.view();
}

/** After the process running a resync died mid-way: the item needs its resync again, as after a failed one. */
export async function afterInterruptedResync(vault: Vault, item: ItemRow): Promise<string | undefined> {
  if (!(await writeItemState(vault.db, item.id, "resyncStopped")).changed) return undefined;
  return `the resync is required again: it runs in the resync window or with 'lifeboat resync ${item.name}'`;
}
