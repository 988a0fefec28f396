import type { BlockStore } from "../store/block-store";
import { blocksOf, readBlocks, readChunks } from "../disks/block-reader";
import { BlockAddresser } from "../disks/block-addresser";
import { addressedBlock, type AddressedBlock, type AddressResult } from "../disks/address-job";
import { blockId, changeHash, isZero } from "../disks/hashing";
import { BlockMap, ZERO_ID } from "./block-map";

/**
 * delta:  trust the previous map; only blocks whose change hash differs are addressed and shipped.
 * full:   address every block and ship what the store lacks (initial replication).
 * verify: like full, and also check each stored copy the replica relies on; re-ship damaged or missing
 *         ones (resync). Compares fixed-block checksums of source and replica.
 */
export type CaptureMode = "delta" | "full" | "verify";

export interface CaptureResult {
  map: BlockMap;
  bytesRead: number;
  /** Blocks whose content differs from the previous map. */
  blocksChanged: number;
  /** Bytes added to the store (after compression). */
  bytesStored: number;
  /** verify: ids whose stored copy was damaged or missing and has been written again. */
  repaired: string[];
}

export interface CaptureOptions {
  mode: CaptureMode;
  blockSize: number;
  /** verify: ids already checked (shared across the disks of one resync so each copy is read once). */
  verified?: Set<string>;
  onProgress?: (bytesDone: number) => void;
}

/**
 * Reads addressed but not yet stored: enough to keep two workers busy while the main thread stores
 * (4 MiB each, so about 16 MiB of reads and their frames in memory).
 */
const READS_IN_FLIGHT = 4;
/** Progress is reported every this many blocks (16 MiB of 64 KiB blocks). */
const PROGRESS_BLOCKS = 256;

/**
 * The main thread reads, computes change hashes, finds zero blocks, and stores; blocks to address go in
 * batches of one read to a BlockAddresser (worker threads for big batches), a few reads ahead, and are
 * stored in disk order as their ids come back.
 */
export async function captureDisk(path: string, size: number, previous: BlockMap | null, store: BlockStore, options: CaptureOptions): Promise<CaptureResult> {
  const { blockSize } = options;
  const mode = previous ? options.mode : options.mode === "delta" ? "full" : options.mode;
  const base = previous ? (previous.size === size ? previous : previous.resized(size)) : BlockMap.empty(size, blockSize);
  const known = previous ? Math.min(previous.count, base.count) : 0;
  const map = new BlockMap(size, blockSize, Buffer.from(base.ids), new BigUint64Array(base.hashes));
  const verified = options.verified ?? new Set<string>();
  const result: CaptureResult = { map, bytesRead: 0, blocksChanged: 0, bytesStored: 0, repaired: [] };
  // verify ships only damaged or missing blocks: frames encoded ahead would mostly be thrown away.
  const addresser = new BlockAddresser(blockSize, mode === "verify" ? undefined : store.frameLevel?.());

  const assign = (index: number, id: Buffer) => {
    if (index >= known || !id.equals(base.id(index))) result.blocksChanged++;
    map.setId(index, id);
  };

  const ship = async (index: number, { id, data, frame }: AddressedBlock) => {
    const hex = id.toString("hex");
    if (mode === "verify") {
      if (verified.has(hex)) return;
      verified.add(hex);
      const present = await store.has(hex);
      if (!present || !(await isIntact(store, hex))) {
        result.bytesStored += await store.put(hex, data, { replace: present, frame });
        // A copy that was there but damaged, or one the replica relied on and lost, is a repair.
        if (present || (index < known && id.equals(base.id(index)))) result.repaired.push(hex);
      }
    } else {
      result.bytesStored += await store.put(hex, data, { frame });
    }
  };

  const storeBatch = async ({ first, addressed }: { first: number; addressed: Promise<AddressResult> }) => {
    const batch = await addressed;
    for (let n = 0; n < batch.spans.length / 2; n++) {
      const block = addressedBlock(batch, n);
      const index = first + block.offset / blockSize;
      assign(index, block.id);
      await ship(index, block);
    }
    addresser.release(batch);
  };

  const queue: Array<{ first: number; addressed: Promise<AddressResult> }> = [];
  for await (const chunk of readChunks(path, size, blockSize, addresser.reads)) {
    const spans: number[] = [];
    let count = 0;
    for (const { index, data } of blocksOf(chunk, blockSize)) {
      count++;
      result.bytesRead += data.length;
      const hash = changeHash(data);
      const unchanged = index < known && hash === map.hashes[index];
      map.hashes[index] = hash;
      if (mode === "delta" && unchanged) continue;
      if (isZero(data)) assign(index, ZERO_ID);
      else spans.push((index - chunk.first) * blockSize, data.length);
    }
    if (spans.length === 0) {
      addresser.reads.give(chunk.data.buffer);
    } else {
      const addressed = addresser.address(chunk.data, spans);
      addressed.catch(() => undefined); // if storing fails first, this one is dropped, not reported as unhandled
      queue.push({ first: chunk.first, addressed });
    }
    while (queue.length > READS_IN_FLIGHT) await storeBatch(queue.shift()!);
    if (options.onProgress && Math.floor((chunk.first + count) / PROGRESS_BLOCKS) > Math.floor(chunk.first / PROGRESS_BLOCKS)) options.onProgress(result.bytesRead);
  }
  for (const batch of queue.splice(0)) await storeBatch(batch);
  options.onProgress?.(result.bytesRead);
  return result;
}

/** A stored copy is intact when it reads back and hashes to its id. */
export async function isIntact(store: BlockStore, id: string): Promise<boolean> {
  try {
    return blockId(await store.get(id)).toString("hex") === id;
  } catch {
    return false;
  }
}

/** Bytes of a disk that differ from a map, by change hash only: the change data a failed cycle left pending. */
export async function pendingBytes(path: string, size: number, previous: BlockMap): Promise<number> {
  let pending = 0;
  for await (const { index, data } of readBlocks(path, size, previous.blockSize)) {
    if (index >= previous.count || changeHash(data) !== previous.hashes[index]) pending += data.length;
  }
  return pending;
}
