import type { Db } from "./db";
import { batches, inBatches } from "./batch";
import type { PointDisk } from "./manifests";

/** What verify found (see migrations/007-damage.ts): damaged_blocks and the damage each point's disk relies on. */

/** The damaged disks of these points, in disk order. */
export function damageOfPointIds(db: Db, pointIds: readonly string[]): Promise<Array<{ point_id: string; name: string; blocks: number }>> {
  return inBatches(pointIds, (ids) =>
    db
      .selectFrom("point_damage")
      .innerJoin("disks", "disks.id", "point_damage.disk_id")
      .select(["point_damage.point_id", "disks.name", "point_damage.blocks"])
      .where("point_damage.point_id", "in", ids)
      .orderBy("disks.id")
      .execute(),
  );
}

/** An item's damaged point disks, newest point first, then in disk order. */
export function damagedDisksOfItem(db: Db, itemId: number) {
  return db
    .selectFrom("point_damage")
    .innerJoin("points", "points.id", "point_damage.point_id")
    .innerJoin("disks", "disks.id", "point_damage.disk_id")
    .select(["points.id", "points.captured_at", "point_damage.found_at", "disks.name", "point_damage.blocks"])
    .where("points.item_id", "=", itemId)
    .orderBy("points.captured_at", "desc")
    .orderBy("points.id", "desc")
    .orderBy("disks.id")
    .execute();
}

/** The disks of points that have damage on record. */
export function damagedPointDisks(db: Db): Promise<PointDisk[]> {
  return db
    .selectFrom("point_disks")
    .innerJoin("point_damage", (j) => j.onRef("point_damage.point_id", "=", "point_disks.point_id").onRef("point_damage.disk_id", "=", "point_disks.disk_id"))
    .select(["point_disks.point_id", "point_disks.disk_id", "point_disks.chunks"])
    .execute();
}

/** Set how many damaged blocks a point's disk relies on (a new row keeps `foundAt`; an existing one its first finding). */
export async function setPointDamage(db: Db, pointId: string, diskId: number, blocks: number, foundAt: number): Promise<void> {
  await db
    .insertInto("point_damage")
    .values({ point_id: pointId, disk_id: diskId, blocks, found_at: foundAt })
    .onConflict((oc) => oc.columns(["point_id", "disk_id"]).doUpdateSet({ blocks }))
    .execute();
}

/** Record the damage of a new point's disk. */
export async function insertPointDamage(db: Db, pointId: string, diskId: number, blocks: number, foundAt: number): Promise<void> {
  await db.insertInto("point_damage").values({ point_id: pointId, disk_id: diskId, blocks, found_at: foundAt }).execute();
}

export async function clearPointDamage(db: Db, pointId: string, diskId: number): Promise<void> {
  await db.deleteFrom("point_damage").where("point_id", "=", pointId).where("disk_id", "=", diskId).execute();
}

/** The damaged elements on record, with their kind. */
export function damagedElements(db: Db): Promise<Array<{ id: string; kind: string }>> {
  return db.selectFrom("damaged_blocks").select(["id", "kind"]).execute();
}

/** Record an element found damaged (found again: its reason is updated). */
export async function recordDamagedElement(db: Db, id: string, kind: string, reason: string, foundAt: number): Promise<void> {
  await db
    .insertInto("damaged_blocks")
    .values({ id, kind, reason, found_at: foundAt })
    .onConflict((oc) => oc.column("id").doUpdateSet({ reason }))
    .execute();
}

export async function deleteDamagedElements(db: Db, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.deleteFrom("damaged_blocks").where("id", "in", batch).execute();
}
