import { createHash } from "node:crypto";
import type { CatalogDb } from "../catalog/catalog";
import type { Db } from "../catalog/db";
import { findPointDisk, insertManifestChunks, manifestChunksByIds } from "../catalog/manifests";
import { diskState, saveDiskStateRow } from "../catalog/disks";
import { EngineError } from "../errors";
import type { SealingKey } from "../store/encrypt/sealing-key";
import type { TrackingState } from "./source-capture";
import { assembleIds, BlockMap, chunkIdsOf, chunkList } from "./block-map";

/**
 * Where manifests are kept: the catalog (or a transaction of it), and the vault's data key, which seals
 * each chunk (AAD: the chunk's id), so the catalog holds no block id in the clear; undefined in a vault
 * made before encryption at rest. A Vault is one.
 */
export interface Manifests<D extends Db = CatalogDb> {
  db: D;
  dataKey: SealingKey | undefined;
}

/** Save a map's chunks (new ones only) and return the chunk list that names them. */
export async function saveManifest({ db, dataKey }: Manifests<Db>, map: BlockMap): Promise<Buffer> {
  const chunks = map.chunks();
  await insertManifestChunks(
    db,
    chunks.map(({ id, data }) => ({ id, data: dataKey ? dataKey.seal("manifest-chunk", id, data) : data })),
  );
  return chunkList(chunks);
}

/** A chunk's ids as stored; a sealed chunk that fails authentication breaks the chain, as a missing one does. */
export function openChunk(dataKey: SealingKey | undefined, id: string, stored: Buffer): Buffer {
  if (!dataKey) return stored;
  const data = dataKey.open("manifest-chunk", id, stored);
  if (!data)
    throw new EngineError("ChainBroken", `manifest chunk ${id} fails authentication: it is damaged in the catalog, or is not the chunk stored under this id`);
  return data;
}

/**
 * A manifest chunk as stored, opened and checked against its id (the SHA-256 of its plain ids): the ids,
 * or undefined when it is damaged (fails authentication, or does not match its id). For verify, which
 * reports damage instead of failing on it.
 */
export function intactChunk(dataKey: SealingKey | undefined, id: string, stored: Buffer): Buffer | undefined {
  const data = dataKey ? dataKey.open("manifest-chunk", id, stored) : stored;
  return data && createHash("sha256").update(data).digest("hex") === id ? data : undefined;
}

export async function loadIds({ db, dataKey }: Manifests, list: Buffer, count: number): Promise<Buffer> {
  const wanted = [...new Set(chunkIdsOf(list))];
  const found = new Map<string, Buffer>();
  for (const row of await manifestChunksByIds(db, wanted)) found.set(row.id, openChunk(dataKey, row.id, row.data));
  return assembleIds(list, found, count);
}

/** The block ids of one disk at one recovery point. */
export async function loadPointMap(manifests: Manifests, pointId: string, diskId: number): Promise<BlockMap> {
  const row = await findPointDisk(manifests.db, pointId, diskId);
  if (!row) throw new EngineError("ChainBroken", `recovery point ${pointId} has no manifest for disk ${diskId}`);
  const count = Math.ceil(row.size / row.block_size);
  return new BlockMap(row.size, row.block_size, await loadIds(manifests, row.chunks, count), new BigUint64Array(count));
}

/**
 * The replication state a disk's next delta cycle compares against: ids and change hashes as last read.
 * Null before initial replication. A state whose chunks are gone means the chain is broken.
 */
export async function loadDiskState(manifests: Manifests, diskId: number, blockSize: number): Promise<BlockMap | null> {
  const row = await diskState(manifests.db, diskId);
  if (row.state_size === null || !row.state_xxh || !row.state_chunks) return null;
  const count = Math.ceil(row.state_size / blockSize);
  if (row.state_xxh.length !== count * 8) throw new EngineError("ChainBroken", `change map of disk ${diskId} is damaged`);
  const hashes = new BigUint64Array(count);
  Buffer.from(hashes.buffer).set(row.state_xxh);
  return new BlockMap(row.state_size, blockSize, await loadIds(manifests, row.state_chunks, count), hashes);
}

/** Save the state a disk's next cycle compares against; `tracking` when it was read from a change tracker's view. */
export async function saveDiskState(db: Db, diskId: number, map: BlockMap, chunks: Buffer, tracking?: TrackingState): Promise<void> {
  await saveDiskStateRow(db, diskId, {
    size: map.size,
    xxh: Buffer.from(map.hashes.buffer, map.hashes.byteOffset, map.hashes.byteLength),
    chunks,
    checkpoint: tracking?.checkpoint,
    trackingReset: tracking?.reset,
  });
}
