import { ValidationError, type DiskChanges } from "../../schema";
import { BlockMap } from "../replication/block-map";
import { BLOCK_ID_BYTES } from "../store/block-id";
import type { EncodedMap } from "../../schema";
export type { EncodedMap };

export function encodeMap(map: BlockMap): EncodedMap {
  return { size: map.size, blockSize: map.blockSize, ids: map.ids.toString("base64"), hashes: bytesOf(map.hashes).toString("base64") };
}

export function decodeMap(encoded: EncodedMap): BlockMap {
  const count = Math.ceil(encoded.size / encoded.blockSize);
  const ids = Buffer.from(encoded.ids, "base64");
  const hashBytes = Buffer.from(encoded.hashes, "base64");
  if (ids.length !== count * BLOCK_ID_BYTES || hashBytes.length !== count * 8) throw new Error(`a map of ${encoded.size} bytes needs ${count} ids and hashes`);
  const hashes = new BigUint64Array(count);
  bytesOf(hashes).set(hashBytes);
  return new BlockMap(encoded.size, encoded.blockSize, ids, hashes);
}

/** The blocks of `next` whose id or change hash differ from `base` (or lie beyond its end). */
export function diffMaps(base: BlockMap | null, next: BlockMap): Omit<DiskChanges, "disk" | "baseVersion"> {
  const changed: number[] = [];
  for (let index = 0; index < next.count; index++) {
    if (!base || index >= base.count || base.hashes[index] !== next.hashes[index] || !base.id(index).equals(next.id(index))) changed.push(index);
  }
  const indexes = new Uint32Array(changed);
  const ids = Buffer.allocUnsafe(changed.length * BLOCK_ID_BYTES);
  const hashes = new BigUint64Array(changed.length);
  changed.forEach((index, n) => {
    next.id(index).copy(ids, n * BLOCK_ID_BYTES);
    hashes[n] = next.hashes[index];
  });
  return { size: next.size, indexes: bytesOf(indexes).toString("base64"), ids: ids.toString("base64"), hashes: bytesOf(hashes).toString("base64") };
}

/**
 * Apply an agent's changes to the state it read. Malformed arrays (lengths that disagree, an index past
 * the disk's end) are bad input, reported with the property, and change nothing.
 */
export function applyChanges(base: BlockMap | null, changes: DiskChanges, blockSize: number, property: string): { map: BlockMap; changed: Buffer[] } {
  const indexBytes = Buffer.from(changes.indexes, "base64");
  const ids = Buffer.from(changes.ids, "base64");
  const hashBytes = Buffer.from(changes.hashes, "base64");
  const n = indexBytes.length / 4;
  const bad = (field: string, reason: string) => new ValidationError("agent report", [{ property: `${property}.${field}`, reason }]);
  if (!Number.isInteger(n)) throw bad("indexes", "must be whole uint32 values");
  if (ids.length !== n * BLOCK_ID_BYTES) throw bad("ids", `must hold ${n} ids of ${BLOCK_ID_BYTES} bytes`);
  if (hashBytes.length !== n * 8) throw bad("hashes", `must hold ${n} hashes of 8 bytes`);
  const map = base ? (base.size === changes.size ? copyOf(base) : base.resized(changes.size)) : BlockMap.empty(changes.size, blockSize);
  if (!base && n !== map.count) throw bad("indexes", `a disk without a replicated state needs all ${map.count} blocks`);
  const indexes = new Uint32Array(n);
  bytesOf(indexes).set(indexBytes);
  const hashes = new BigUint64Array(n);
  bytesOf(hashes).set(hashBytes);
  const changed: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    if (indexes[k] >= map.count) throw bad("indexes", `block ${indexes[k]} lies past the end of a ${changes.size}-byte disk`);
    const id = ids.subarray(k * BLOCK_ID_BYTES, (k + 1) * BLOCK_ID_BYTES);
    map.setId(indexes[k], id);
    map.hashes[indexes[k]] = hashes[k];
    changed.push(id);
  }
  return { map, changed };
}

const copyOf = (map: BlockMap) => new BlockMap(map.size, map.blockSize, Buffer.from(map.ids), new BigUint64Array(map.hashes));
const bytesOf = (array: Uint32Array | BigUint64Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
