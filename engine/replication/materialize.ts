import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault } from "../vault";
import { EngineError } from "../errors";
import { blockId } from "../store/block-id";
import { knownDigest, releaseBlock } from "../store/compress/decoder";
import type { ItemRow } from "../inventory/items";
import { oneTaskJob, type JobView, type Task } from "../jobs/jobs";
import { ZERO_ID, type BlockMap } from "./block-map";
import { writevAll } from "../io/write-all";
import { loadPointMap } from "./manifests";
import { writeThroughPartial } from "./partial-outputs";
import { pointView, resolvePoint, type PointView } from "./points";
import { assertRestorable } from "./damage";
import { disksOfPoint } from "../catalog/manifests";

export interface MaterializedDisk {
  name: string;
  path: string;
  size: number;
}

/**
 * Write each disk of a recovery point as a file named after the disk in outDir: byte-identical to the
 * source at capture time, sparse where blocks are zero. Every block is verified against its id; files
 * appear under their final names only when complete and synced (a failed write leaves nothing). A point
 * verify found damaged is refused.
 */
export async function materialize(
  vault: Vault,
  item: ItemRow,
  selector: string,
  outDir: string,
  task?: Task,
): Promise<{ point: PointView; disks: MaterializedDisk[] }> {
  const point = await resolvePoint(vault, item, selector);
  await assertRestorable(vault, item, point.id);
  const disks = await disksOfPoint(vault.db, point.id);
  await fs.mkdir(outDir, { recursive: true });
  const written: MaterializedDisk[] = [];
  for (const disk of disks) {
    const target = path.join(outDir, disk.name);
    const write = async (sub?: Task) => {
      const map = await loadPointMap(vault, point.id, disk.id);
      await writeThroughPartial(vault, target, async (partial) => {
        const handle = await fs.open(partial, "w");
        try {
          await handle.truncate(map.size);
          await withDiskWriteSlot(() => writeBlocks(vault, map, handle, partial, `disk '${disk.name}' of ${item.name}`, sub));
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
    };
    await (task ? task.child(`Disk ${disk.name}`, write) : write());
    written.push({ name: disk.name, path: target, size: disk.size });
  }
  return { point: await pointView(vault, point, item.name), disks: written };
}

/** Materialize as a Materialize job of the item, each disk a subtask (its failure is the job's, not thrown). */
export function materializeJob(vault: Vault, item: ItemRow, selector: string, outDir: string): Promise<JobView> {
  return oneTaskJob(vault.db, vault.clock, "Materialize", item.name, "Write disks", (task) => materialize(vault, item, selector, outDir, task));
}

const WRITES_IN_FLIGHT = 4;
/** Neighbouring blocks go to the file in one writev of up to this many bytes. */
const WRITE_RUN_BYTES = 1024 * 1024;
/**
 * Disks written at once in this process. Decoding and hashing run on the store's worker threads (see
 * store/compress/decoder.ts); three readers keep both busy, and more would add memory, not speed.
 */
const DISKS_AT_ONCE = 3;
let writing = 0;
const waiting: Array<() => void> = [];

async function withDiskWriteSlot<T>(body: () => Promise<T>): Promise<T> {
  if (writing < DISKS_AT_ONCE) writing++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // a finishing writer hands over its slot
  try {
    return await body();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else writing--;
  }
}

/**
 * Write every non-zero block of a map into an open file, reading the store in its fastest order (each
 * distinct block once, however many places use it) and verifying each block against its id. Blocks that
 * land next to each other are gathered into one write. A block's memory goes back to the store's decoder
 * once every write of it is done.
 */
async function writeBlocks(vault: Vault, map: BlockMap, handle: fs.FileHandle, file: string, what: string, task?: Task): Promise<void> {
  const places = new Map<string, number[]>();
  for (let index = 0; index < map.count; index++) {
    const id = map.id(index);
    if (id.equals(ZERO_ID)) continue;
    const hex = id.toString("hex");
    const list = places.get(hex);
    if (list) list.push(index);
    else places.set(hex, [index]);
  }
  const writes = new Set<Promise<unknown>>();
  // The first write that failed (a full disk): kept here, since a write leaves `writes` as it settles.
  let failed: { error: unknown } | undefined;
  const check = () => {
    if (failed) throw failed.error;
  };
  let run: { first: number; next: number; buffers: Buffer[]; blocks: Held[]; bytes: number } | undefined;
  const flushRun = async () => {
    check();
    if (!run) return;
    const { first, buffers, blocks } = run;
    run = undefined;
    const write = writevAll(handle, buffers, first * map.blockSize, file)
      .catch((error: unknown) => void (failed ??= { error }))
      .finally(() => {
        writes.delete(write);
        for (const block of blocks) if (--block.writesLeft === 0) releaseBlock(block.data);
      });
    writes.add(write);
    if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
    check();
  };
  let done = 0;
  for await (const { id, data } of vault.store.getMany([...places.keys()])) {
    // Hashed where the store decoded it, off this thread, when it could.
    if ((knownDigest(data) ?? blockId(data)).toString("hex") !== id) {
      throw new EngineError("BlockDamaged", `block ${places.get(id)![0]} of ${what} is damaged in the store (id ${id}); run 'lifeboat resync'`);
    }
    const indexes = places.get(id)!;
    const held: Held = { data, writesLeft: indexes.length };
    for (const index of indexes) {
      if (!run || index !== run.next || run.bytes >= WRITE_RUN_BYTES) {
        await flushRun();
        run = { first: index, next: index, buffers: [], blocks: [], bytes: 0 };
      }
      run.buffers.push(data);
      run.blocks.push(held);
      run.bytes += data.length;
      run.next = index + 1;
    }
    if (task && ++done % 256 === 0) await task.progress(done / places.size);
  }
  await flushRun();
  await Promise.all(writes);
  check();
}

/** A block waiting for its writes, after which its memory is released. */
interface Held {
  data: Buffer;
  writesLeft: number;
}
