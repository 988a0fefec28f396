import * as path from "node:path";
import type { Vault } from "../vault";
import { ConflictError } from "../errors";
import { Job, type JobView } from "../jobs/jobs";
import { includedDisks, itemRowById, type ItemRow } from "../inventory/items";
import { assertAllowed, failoverFlags } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { replicateWindow, scanDisks, sum } from "../replication/cycle";
import { loadDiskState } from "../replication/manifests";
import { machineOf } from "./machines";
import { updateDisk } from "../catalog/disks";

export interface ReprotectResult {
  direction: "recovery-to-primary" | "primary-to-recovery";
  /** Blocks of the new source that differ from what was last replicated: the only data that travelled. */
  blocksDiffering: number;
  bytesRead: number;
  bytesStored: number;
  point: string;
}

/**
 * Reprotect after a committed failover: the machine running at the recovery site becomes the replication
 * source (reverse replication), so it can fail back. After a committed failback it turns replication the
 * right way round again. Either way the initial replication is a delta: every block is checksummed against
 * what the vault already holds, and only blocks the vault lacks are shipped.
 */
export async function reprotect(vault: Vault, item: ItemRow): Promise<JobView> {
  assertAllowed(item, "reprotect");
  // Running at the recovery site (a committed failover), it replicates back; else the right way round again.
  const reverse = failoverFlags(item.failover_state).site === "recovery";
  const machine = await machineOf(vault, item, "failover");
  if (reverse && !machine) throw new ConflictError(`'${item.name}' has no machine at the recovery site to replicate from`, "name");

  const job = await Job.start(vault.db, vault.clock, "Reprotect", item.name, ["Switch replication direction", "Initial replication", "Finalize protection"]);
  await job
    .run(async () => {
      const disks = await job.step("Switch replication direction", async () => {
        for (const disk of await includedDisks(vault, item.id)) {
          const next = reverse
            ? { path: path.join(machine!.dir, disk.name), primary_path: disk.primary_path ?? disk.path }
            : { path: disk.primary_path ?? disk.path, primary_path: null };
          await updateDisk(vault.db, disk.id, next);
        }
        await writeItemState(vault.db, item.id, "reprotect");
        return includedDisks(vault, item.id);
      });
      // The last replicated map of each disk tells how much of the new source differs from it.
      const scans = await job.step("Initial replication", async (task) =>
        scanDisks(vault, await itemRowById(vault, item.id), disks, "full", (d) => loadDiskState(vault, d.id, vault.blockSize).catch(() => null), task),
      );
      const [point] = await job.step("Finalize protection", async () => {
        await writeItemState(vault.db, item.id, "reprotectDone");
        return replicateWindow(vault, [await itemRowById(vault, item.id)], { appConsistent: false });
      });
      const result: ReprotectResult = {
        direction: reverse ? "recovery-to-primary" : "primary-to-recovery",
        blocksDiffering: sum(scans, (s) => s.blocksChanged),
        bytesRead: sum(scans, (s) => s.bytesRead),
        bytesStored: sum(scans, (s) => s.bytesStored) + point.bytesStored,
        point: point.id,
      };
      return result;
    })
    .catch(() => afterInterruptedReprotect(vault, item));
  return await job.view();
}

/** After a failed reprotect, or one whose process died: the item is left as before, so reprotect can run again. */
export async function afterInterruptedReprotect(vault: Vault, item: ItemRow): Promise<string | undefined> {
  await writeItemState(vault.db, item.id, "reprotectFailed");
  return `run 'lifeboat reprotect ${item.name}' again`;
}
