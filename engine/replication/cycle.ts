import type { Transaction } from "kysely";
import type { Vault } from "../vault";
import type { Tables } from "../catalog/tables";
import { includedDisks, NO_FAILURE, type DiskRow, type ItemRow } from "../inventory/items";
import { writeItemState } from "../inventory/item-state-write";
import { sourceHooks } from "./source";
import { newId, type Task } from "../jobs/jobs";
import type { BlockMap } from "./block-map";
import type { CaptureResult } from "./capture";
import { captureWindow, type CapturedWindow } from "./window-capture";
import { beginCapture, sourceKey, type TrackingState } from "./source-capture";
import { diskSource } from "../tracking/disk-source";
import { newBlockIds, unstoredBlocks } from "./stored-blocks";
import { ConflictError, EngineError } from "../errors";
import { findItem } from "../catalog/items";
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
  /**
   * How the record step is serialized. Callers holding the vault lock leave it out; the scheduler's
   * cycles, which capture without the lock, take the lock here, for the record alone.
   */
  recordWith?: <T>(record: () => Promise<T>) => Promise<T>;
  /** Gives the window up (a cycle's deadline): see captureWindow. */
  signal?: AbortSignal;
  /** Disk paths being read (see readDisk). */
  reading?: Set<string>;
}

/**
 * A window's record did not happen because what it was read against moved on meanwhile: a disk's state
 * (another cycle, a resync, an update), the item's state (a failover, a failed verify), the item itself
 * (unprotected), or a block it relies on (collected). Nothing was recorded; the scheduler counts it as
 * skipped, not as a failure: nothing is wrong with the source, and the next cycle reads against what is
 * there now.
 */
export class WindowDiscarded extends ConflictError {}

/** What a window reads against: each machine's row, disks and their states, as they were when it began. */
interface WindowPlan {
  item: ItemRow;
  disks: DiskRow[];
  previous: Array<BlockMap | null>;
  app: boolean;
}

/**
 * One replication cycle over one machine or a whole replication group: the machines are held still
 * together (pause/quiesce hooks), every disk is read against its last map, the new blocks are made
 * durable, and only then is one recovery point per machine recorded, all in one catalog transaction,
 * provided that nothing it was read against moved on meanwhile (else WindowDiscarded).
 */
export async function replicateWindow(vault: Vault, items: ItemRow[], options: WindowOptions): Promise<PointView[]> {
  const hooks = await Promise.all(items.map((item) => sourceHooks(vault, item)));
  const plan: WindowPlan[] = await Promise.all(
    items.map(async (item, n) => {
      const disks = await includedDisks(vault, item.id);
      const hanging = disks.find((d) => options.reading?.has(sourceKey(diskSource(item, d))));
      // Read again, a hung disk would hold one more of the process's I/O threads.
      if (hanging)
        throw new EngineError(
          "DeadlineExceeded",
          `disk '${hanging.name}' of '${item.name}' still has not answered a read of an earlier cycle (${hanging.path})`,
        );
      const previous = await Promise.all(disks.map((d) => loadDiskState(vault, d.id, vault.blockSize)));
      return { item, disks, previous, app: options.appConsistent && Boolean(hooks[n].quiesce) };
    }),
  );
  const captured = await captureWindow(
    plan.map((p, n) => ({
      item: p.item.name,
      hooks: hooks[n],
      disks: p.disks.map((d, i) => ({ path: d.path, source: diskSource(p.item, d), base: p.previous[i] })),
    })),
    {
      workDir: vault.dir,
      appConsistent: options.appConsistent,
      stopped: options.stopped,
      store: vault.store,
      blockSize: vault.blockSize,
      now: () => vault.clock.now(),
      journal: vault.windows,
      signal: options.signal,
      reading: options.reading,
    },
  );
  const record = options.recordWith ?? ((body) => body());
  const captures = captured.captures.flat();
  let points: PointView[];
  try {
    points = await record(() => recordIfCurrent(vault, plan, captured));
  } catch (error) {
    // Nothing was recorded: the trackers keep these changes for the next cycle.
    for (const c of captures) await c.abandoned();
    throw error;
  }
  for (const c of captures) await c.committed();
  return points;
}

/** Record the window if every machine, disk state and new block is still what it was read against. */
async function recordIfCurrent(vault: Vault, plan: WindowPlan[], captured: CapturedWindow): Promise<PointView[]> {
  const entries: WindowEntry[] = [];
  const newIds = new Set<string>();
  for (const [n, p] of plan.entries()) {
    const item = await findItem(vault.db, p.item.name);
    if (item?.id !== p.item.id) throw new WindowDiscarded(`'${p.item.name}' was unprotected while its window was read`);
    if (item.state !== p.item.state || item.failover_state !== p.item.failover_state)
      throw new WindowDiscarded(`'${item.name}' went from ${stateOf(p.item)} to ${stateOf(item)} while its window was read`);
    const disks = await includedDisks(vault, item.id);
    for (const [i, disk] of p.disks.entries()) {
      const now = disks.find((d) => d.id === disk.id);
      if (!now || disks.length !== p.disks.length) throw new WindowDiscarded(`the disks of '${item.name}' changed while its window was read`);
      if (now.state_version !== disk.state_version)
        throw new WindowDiscarded(
          `disk '${disk.name}' of '${item.name}' moved on while its window was read (version ${disk.state_version}, now ${now.state_version})`,
        );
      newBlockIds(captured.captures[n][i].result.map, p.previous[i], newIds);
    }
    entries.push({ item, disks, results: captured.captures[n].map((c) => ({ ...c.result, tracking: c.tracking })), app: p.app });
  }
  const gone = await unstoredBlocks(vault, newIds);
  if (gone.length)
    throw new WindowDiscarded(`${gone.length} block(s) the window read left the store meanwhile (first: ${gone[0]}); the next cycle ships them again`);
  return recordWindow(vault, entries, captured.capturedAt, captured.durationMs);
}

const stateOf = (item: ItemRow) => (item.failover_state ? `${item.state}/${item.failover_state}` : item.state);

/** What one machine's part of a window recorded: its disks and, disk by disk, what was read. */
export interface WindowEntry {
  item: ItemRow;
  disks: DiskRow[];
  /** `tracking`: for a disk read through a change tracker, the checkpoint its new state stands at. */
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

/** Runs a mutation of the vault: under the vault lock, or directly when the caller holds it already. */
export type Serialize = <T>(body: () => Promise<T>) => Promise<T>;
export const holdingLock: Serialize = (body) => body();

/**
 * Read every included disk of one machine in full, without a window, as a subtask of `parent` each,
 * and keep each result as the disk's state; the window that follows catches what changed meanwhile.
 * `saveWith` serializes the saves: a caller that reads without the vault lock passes it, and a disk
 * whose item or state moved on meanwhile is not saved (WindowDiscarded).
 */
export async function scanDisks(
  vault: Vault,
  item: ItemRow,
  disks: DiskRow[],
  mode: "full" | "verify",
  previousOf: (disk: DiskRow) => Promise<BlockMap | null>,
  parent: Task,
  saveWith: Serialize = holdingLock,
): Promise<CaptureResult[]> {
  const read = await findItem(vault.db, item.name);
  const verified = new Set<string>();
  const results: CaptureResult[] = [];
  for (const disk of disks) {
    const result = await parent.child(`Disk ${disk.name}`, async (task) => {
      const previous = await previousOf(disk);
      // No window: a file is read as it changes (the window after catches up); a QEMU disk, as its view at the start.
      const begun = await beginCapture(diskSource(item, disk), previous, vault.store, {
        mode,
        blockSize: vault.blockSize,
        workDir: vault.dir,
        verified,
        onProgress: (done, size) => void task.progress(size ? done / size : 1, `${done} of ${size} bytes`),
      });
      const capture = await begun.read();
      try {
        await vault.store.flush();
        const gone = await unstoredBlocks(vault, newBlockIds(capture.result.map, previous));
        if (gone.length)
          throw new EngineError(
            "IoError",
            `${gone.length} block(s) read from disk '${disk.name}' are not in the store after its flush (first: ${gone[0]}): a write failed`,
            { recoverable: true },
          );
        await saveWith(async () => {
          await assertUnmoved(vault, read, disk);
          await saveDiskState(vault.db, disk.id, capture.result.map, await saveManifest(vault, capture.result.map), capture.tracking);
        });
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

/** The item is still the one (and in the state) a scan began with, and the disk's state was not saved since. */
async function assertUnmoved(vault: Vault, read: ItemRow | undefined, disk: DiskRow): Promise<void> {
  const item = await findItem(vault.db, disk.item_id === read?.id ? read.name : "");
  if (!item || item.id !== disk.item_id) throw new WindowDiscarded(`the machine of disk '${disk.name}' was unprotected while the disk was read`);
  if (item.state !== read!.state || item.failover_state !== read!.failover_state)
    throw new WindowDiscarded(`'${item.name}' went from ${stateOf(read!)} to ${stateOf(item)} while disk '${disk.name}' was read`);
  const now = (await includedDisks(vault, item.id)).find((d) => d.id === disk.id);
  if (now?.state_version !== disk.state_version) throw new WindowDiscarded(`disk '${disk.name}' of '${item.name}' moved on while it was read`);
}

export function sum<T>(list: T[], of: (t: T) => number): number {
  return list.reduce((total, t) => total + of(t), 0);
}
