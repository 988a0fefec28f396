import type { Transaction } from "kysely";
import type { Vault } from "../vault";
import type { Tables } from "../catalog/tables";
import { includedDisks, NO_FAILURE, type DiskRow, type ItemRow } from "../inventory/items";
import { writeItemState } from "../inventory/item-state-write";
import { sourceHooks } from "./source";
import { withConsistentWindow } from "../disks/consistency";
import { newId, type Task } from "../jobs/jobs";
import type { BlockMap } from "./block-map";
import type { CaptureResult } from "./capture";
import { beginCapture, type BegunCapture, type SourceCapture, type TrackingState } from "./source-capture";
import { diskSource } from "../tracking/disk-source";
import { updateDisk } from "../catalog/disks";
import { loadDiskState, saveDiskState, saveManifest } from "./manifests";
import { pointView, type PointView } from "./points";
import { damageOfNewMap } from "./damage";
import { insertPoint, pointsByIds } from "../catalog/points";
import { insertPointDisk } from "../catalog/manifests";
import { insertPointDamage } from "../catalog/damage";

export interface WindowOptions {
  /** Run the quiesce hooks too (for items that have them) and mark their points app-consistent. */
  appConsistent: boolean;
  /** Skip the pause/quiesce hooks: the machines are already stopped (a planned failover's final sync). */
  stopped?: boolean;
}

/**
 * One replication cycle over one machine or a whole replication group: the machines are held still
 * together (pause/quiesce hooks), every disk is read against its last map, the new blocks are made
 * durable, and only then is one recovery point per machine recorded, all in one catalog transaction.
 */
export async function replicateWindow(vault: Vault, items: ItemRow[], options: WindowOptions): Promise<PointView[]> {
  const plan = await Promise.all(
    items.map(async (item) => {
      const disks = await includedDisks(vault, item.id);
      const previous = await Promise.all(disks.map((d) => loadDiskState(vault, d.id, vault.blockSize)));
      const hooks = await sourceHooks(vault, item);
      return { item, disks, previous, hooks, app: options.appConsistent && Boolean(hooks.quiesce) };
    }),
  );
  const participants = options.stopped ? [] : plan.map((p) => ({ item: p.item.name, hooks: p.hooks, disks: p.disks.map((d) => d.path) }));
  const began = performance.now();
  let capturedAt = 0;
  const captureOptions = { mode: "delta" as const, blockSize: vault.blockSize, workDir: vault.dir };
  // Files are read inside the window; a QEMU disk's view is only taken there, and read once the machines run again.
  const begun: BegunCapture[][] = [];
  try {
    await withConsistentWindow(
      participants,
      options.appConsistent,
      async () => {
        capturedAt = vault.clock.now();
        for (const p of plan) {
          const disks: BegunCapture[] = [];
          begun.push(disks);
          for (const [i, disk] of p.disks.entries()) disks.push(await beginCapture(diskSource(p.item, disk), p.previous[i], vault.store, captureOptions));
        }
      },
      vault.windows,
    );
  } catch (error) {
    for (const b of begun.flat()) await b.abandon();
    throw error;
  }
  const captures = await readAll(begun);
  try {
    await vault.store.flush();
    const entries = plan.map((p, n) => ({
      item: p.item,
      disks: p.disks,
      results: captures[n].map((c) => ({ ...c.result, tracking: c.tracking })),
      app: p.app,
    }));
    // Rounded up: a sub-millisecond cycle took time all the same, and 0 would read as "never measured".
    const points = await recordWindow(vault, entries, capturedAt, Math.ceil(performance.now() - began));
    for (const c of captures.flat()) await c.committed();
    return points;
  } catch (error) {
    await abandonAll(vault, plan, captures);
    throw error;
  }
}

/** Read every begun capture; when one fails, the others (read or not) are abandoned and the failure rethrown. */
async function readAll(begun: BegunCapture[][]): Promise<SourceCapture[][]> {
  const read: SourceCapture[][] = [];
  let failure: unknown;
  for (const disks of begun) {
    const results: SourceCapture[] = [];
    read.push(results);
    for (const b of disks) {
      if (failure !== undefined) {
        await b.abandon();
        continue;
      }
      try {
        results.push(await b.read());
      } catch (error) {
        failure = error;
      }
    }
  }
  if (failure !== undefined) {
    for (const c of read.flat()) await c.abandoned();
    throw failure;
  }
  return read;
}

/** Nothing was recorded: every tracker keeps its changes, and each disk's row names the checkpoint it holds now. */
async function abandonAll(vault: Vault, plan: Array<{ disks: DiskRow[] }>, captures: SourceCapture[][]): Promise<void> {
  for (const [n, p] of plan.entries()) {
    for (const [i, c] of captures[n].entries()) {
      const checkpoint = await c.abandoned();
      if (c.tracking.checkpoint !== null) await updateDisk(vault.db, p.disks[i].id, { checkpoint });
    }
  }
}

/** What one machine's part of a window recorded: its disks and, disk by disk, what was read. */
export interface WindowEntry {
  item: ItemRow;
  disks: DiskRow[];
  results: Array<Pick<CaptureResult, "map" | "bytesRead" | "blocksChanged" | "bytesStored"> & { tracking?: TrackingState }>;
  /** The point is app-consistent. */
  app: boolean;
}

/**
 * Record one window's recovery points (blocks already durable): a point per machine with its manifests,
 * each disk's new replication state and the item's state, all in one catalog transaction. `alsoInside`
 * adds writes that must commit with them (an agent's block locations).
 */
export async function recordWindow(
  vault: Vault,
  entries: WindowEntry[],
  capturedAt: number,
  durationMs: number,
  alsoInside?: (trx: Transaction<Tables>) => Promise<void>,
): Promise<PointView[]> {
  // A multi-VM consistent point needs more than one machine in the window.
  const windowId = entries.length > 1 ? newId("win", capturedAt) : null;
  const ids = entries.map(() => newId("pt", capturedAt));
  // Blocks that dedupe onto a copy verify found damaged make a damaged point, which needs a resync.
  const damage = await Promise.all(entries.map((p) => Promise.all(p.results.map((r) => damageOfNewMap(vault, r.map)))));
  await vault.db.transaction().execute(async (trx) => {
    await alsoInside?.(trx);
    for (const [n, p] of entries.entries()) {
      const { results } = p;
      await insertPoint(trx, {
        id: ids[n],
        item_id: p.item.id,
        captured_at: capturedAt,
        kind: p.app ? "app" : "crash",
        group_name: p.item.group_name,
        window_id: windowId,
        bytes_read: sum(results, (r) => r.bytesRead),
        blocks_changed: sum(results, (r) => r.blocksChanged),
        bytes_stored: sum(results, (r) => r.bytesStored),
        duration_ms: durationMs,
      });
      for (const [i, disk] of p.disks.entries()) {
        const map = results[i].map;
        const chunks = await saveManifest({ db: trx, dataKey: vault.dataKey }, map);
        await insertPointDisk(trx, { point_id: ids[n], disk_id: disk.id, size: map.size, block_size: map.blockSize, chunks });
        if (damage[n][i] > 0) await insertPointDamage(trx, ids[n], disk.id, damage[n][i], vault.clock.now());
        await saveDiskState(trx, disk.id, map, chunks, results[i].tracking);
      }
      const damaged = damage[n].some((blocks) => blocks > 0);
      await writeItemState(trx, p.item.id, damaged ? "recordDamagedPoint" : "recordPoint", {
        also: { ...NO_FAILURE, last_attempt_at: capturedAt, lease_until: null, ...(p.app ? { last_app_point_at: capturedAt } : {}) },
      });
    }
  });
  const rows = await pointsByIds(vault.db, ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return Promise.all(entries.map((p, n) => pointView(vault, byId.get(ids[n])!, p.item.name)));
}

/**
 * Read every included disk of one machine in full, without a window, as a subtask of `parent` each,
 * and keep each result as the disk's state; the window that follows catches what changed meanwhile.
 */
export async function scanDisks(
  vault: Vault,
  item: ItemRow,
  disks: DiskRow[],
  mode: "full" | "verify",
  previousOf: (disk: DiskRow) => Promise<BlockMap | null>,
  parent: Task,
): Promise<CaptureResult[]> {
  const verified = new Set<string>();
  const results: CaptureResult[] = [];
  for (const disk of disks) {
    const result = await parent.child(`Disk ${disk.name}`, async (task) => {
      // No window: a file is read as it changes (the window after catches up); a QEMU disk, as its view at the start.
      const begun = await beginCapture(diskSource(item, disk), await previousOf(disk), vault.store, {
        mode,
        blockSize: vault.blockSize,
        workDir: vault.dir,
        verified,
        onProgress: (done, size) => void task.progress(size ? done / size : 1, `${done} of ${size} bytes`),
      });
      const capture = await begun.read();
      try {
        await vault.store.flush();
        await saveDiskState(vault.db, disk.id, capture.result.map, await saveManifest(vault, capture.result.map), capture.tracking);
      } catch (error) {
        await capture.abandoned();
        throw error;
      }
      await capture.committed();
      return capture.result;
    });
    results.push(result);
  }
  return results;
}

export function sum<T>(list: T[], of: (t: T) => number): number {
  return list.reduce((total, t) => total + of(t), 0);
}
