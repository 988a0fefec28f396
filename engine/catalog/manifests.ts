import type { Db } from "./db";
import { batches, inBatches } from "./batch";

/** Manifest chunks (block id lists, sealed when the vault has a data key) and each point's chunk list per disk. */

/** Store chunks; one already stored under its id is kept (ids are content hashes). */
export async function insertManifestChunks(db: Db, rows: Array<{ id: string; data: Buffer }>): Promise<void> {
  for (const batch of batches(rows, 2))
    await db
      .insertInto("manifest_chunks")
      .values(batch)
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
}

/** The stored chunks among these ids (absent ones are missing from the result). */
export function manifestChunksByIds(db: Db, ids: readonly string[]): Promise<Array<{ id: string; data: Buffer }>> {
  return inBatches(ids, (batch) => db.selectFrom("manifest_chunks").select(["id", "data"]).where("id", "in", batch).execute());
}

export function findManifestChunk(db: Db, id: string): Promise<{ data: Buffer } | undefined> {
  return db.selectFrom("manifest_chunks").select("data").where("id", "=", id).executeTakeFirst();
}

export function allManifestChunks(db: Db): Promise<Array<{ id: string; data: Buffer }>> {
  return db.selectFrom("manifest_chunks").select(["id", "data"]).execute();
}

export async function manifestChunkIds(db: Db): Promise<string[]> {
  return (await db.selectFrom("manifest_chunks").select("id").execute()).map((r) => r.id);
}

export async function deleteManifestChunks(db: Db, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.deleteFrom("manifest_chunks").where("id", "in", batch).execute();
}

/** A disk of a point, as the catalog keeps its manifest: the chunk list. */
export interface PointDisk {
  point_id: string;
  disk_id: number;
  chunks: Buffer;
}

/** One disk's manifest at one point. */
export function findPointDisk(db: Db, pointId: string, diskId: number) {
  return db.selectFrom("point_disks").selectAll().where("point_id", "=", pointId).where("disk_id", "=", diskId).executeTakeFirst();
}

export async function insertPointDisk(db: Db, row: PointDisk & { size: number; block_size: number }): Promise<void> {
  await db.insertInto("point_disks").values(row).execute();
}

/** The manifests of these points. */
export function pointDisksOf(db: Db, pointIds: readonly string[]): Promise<PointDisk[]> {
  return inBatches(pointIds, (batch) => db.selectFrom("point_disks").select(["point_id", "disk_id", "chunks"]).where("point_id", "in", batch).execute());
}

/** Every point's chunk list (for garbage collection). */
export async function allPointChunkLists(db: Db): Promise<Buffer[]> {
  return (await db.selectFrom("point_disks").select("chunks").execute()).map((r) => r.chunks);
}

/** The disks of a point with their sizes at that point, in disk order. */
export function disksOfPoint(db: Db, pointId: string): Promise<Array<{ id: number; name: string; size: number }>> {
  return db
    .selectFrom("point_disks")
    .innerJoin("disks", "disks.id", "point_disks.disk_id")
    .select(["disks.id", "disks.name", "point_disks.size"])
    .where("point_disks.point_id", "=", pointId)
    .orderBy("disks.id")
    .execute();
}
