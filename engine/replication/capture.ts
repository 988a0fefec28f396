import type { BlockStore } from "../store/block-store";
import { readBlocks } from "../disks/block-reader";
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

export async function captureDisk(path: string, size: number, previous: BlockMap | null, store: BlockStore, options: CaptureOptions): Promise<CaptureResult> {
  const { blockSize } = options;
  const mode = previous ? options.mode : options.mode === "delta" ? "full" : options.mode;
  const base = previous ? (previous.size === size ? previous : previous.resized(size)) : BlockMap.empty(size, blockSize);
  const known = previous ? Math.min(previous.count, base.count) : 0;
  const map = new BlockMap(size, blockSize, Buffer.from(base.ids), new BigUint64Array(base.hashes));
  const verified = options.verified ?? new Set<string>();
  const result: CaptureResult = { map, bytesRead: 0, blocksChanged: 0, bytesStored: 0, repaired: [] };

  for await (const { index, data } of readBlocks(path, size, blockSize)) {
    result.bytesRead += data.length;
    const hash = changeHash(data);
    const unchanged = index < known && hash === map.hashes[index];
    map.hashes[index] = hash;
    if (mode === "delta" && unchanged) continue;

    const id = isZero(data) ? ZERO_ID : blockId(data);
    if (index >= known || !id.equals(base.id(index))) result.blocksChanged++;
    map.setId(index, id);
    if (id !== ZERO_ID) {
      const hex = id.toString("hex");
      if (mode === "verify") {
        if (!verified.has(hex)) {
          verified.add(hex);
          const present = await store.has(hex);
          if (!present || !(await isIntact(store, hex))) {
            result.bytesStored += await store.put(hex, data, { replace: present });
            // A copy that was there but damaged, or one the replica relied on and lost, is a repair.
            if (present || (index < known && id.equals(base.id(index)))) result.repaired.push(hex);
          }
        }
      } else {
        result.bytesStored += await store.put(hex, data);
      }
    }
    if (options.onProgress && index % 256 === 255) options.onProgress(result.bytesRead);
  }
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
