import { createHash } from "node:crypto";
import { EngineError } from "../errors";
import { BLOCK_ID_BYTES } from "../store/block-id";

/** Marks an all-zero block in a map; no SHA-256 is all zeros in practice, and zero blocks are never stored. */
export const ZERO_ID = Buffer.alloc(BLOCK_ID_BYTES);
/** Ids per manifest chunk: 256 ids cover 16 MiB of disk, so localized writes rewrite few chunks. */
const CHUNK_IDS = 256;

/** A disk's block ids (SHA-256, or ZERO_ID) and change hashes (xxh64), index by index. */
export class BlockMap {
  constructor(
    readonly size: number,
    readonly blockSize: number,
    readonly ids: Buffer,
    readonly hashes: BigUint64Array,
  ) {}

  static empty(size: number, blockSize: number): BlockMap {
    const count = Math.ceil(size / blockSize);
    return new BlockMap(size, blockSize, Buffer.alloc(count * BLOCK_ID_BYTES), new BigUint64Array(count));
  }

  get count(): number {
    return this.hashes.length;
  }

  id(index: number): Buffer {
    return this.ids.subarray(index * BLOCK_ID_BYTES, (index + 1) * BLOCK_ID_BYTES);
  }

  setId(index: number, id: Buffer): void {
    id.copy(this.ids, index * BLOCK_ID_BYTES);
  }

  /** A map for a disk of a new size, keeping what overlaps; blocks beyond the old end count as unknown. */
  resized(size: number): BlockMap {
    const next = BlockMap.empty(size, this.blockSize);
    const keep = Math.min(this.count, next.count);
    this.ids.copy(next.ids, 0, 0, keep * BLOCK_ID_BYTES);
    next.hashes.set(this.hashes.subarray(0, keep));
    return next;
  }

  /** Split the ids into content-addressed chunks; unchanged regions give chunks that already exist. */
  chunks(): Array<{ id: string; data: Buffer }> {
    const out: Array<{ id: string; data: Buffer }> = [];
    const step = CHUNK_IDS * BLOCK_ID_BYTES;
    for (let offset = 0; offset < this.ids.length; offset += step) {
      const data = Buffer.from(this.ids.subarray(offset, offset + step));
      out.push({ id: createHash("sha256").update(data).digest("hex"), data });
    }
    return out;
  }
}

export function chunkList(chunks: Array<{ id: string }>): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.id, "hex")));
}

export function chunkIdsOf(list: Buffer): string[] {
  const ids: string[] = [];
  for (let offset = 0; offset < list.length; offset += BLOCK_ID_BYTES) ids.push(list.subarray(offset, offset + BLOCK_ID_BYTES).toString("hex"));
  return ids;
}

/** Rebuild the id array of a manifest from its chunk list; a missing chunk means the chain is broken. */
export function assembleIds(list: Buffer, chunks: Map<string, Buffer>, count: number): Buffer {
  const parts = chunkIdsOf(list).map((id) => {
    const data = chunks.get(id);
    if (!data) throw new EngineError("ChainBroken", `manifest chunk ${id} is missing from the catalog`);
    return data;
  });
  const ids = Buffer.concat(parts);
  if (ids.length !== count * BLOCK_ID_BYTES) throw new EngineError("ChainBroken", `manifest holds ${ids.length / BLOCK_ID_BYTES} blocks, expected ${count}`);
  return ids;
}

export function* nonZeroIds(ids: Buffer): Generator<string> {
  for (let offset = 0; offset < ids.length; offset += BLOCK_ID_BYTES) {
    const id = ids.subarray(offset, offset + BLOCK_ID_BYTES);
    if (!id.equals(ZERO_ID)) yield id.toString("hex");
  }
}
