import type { Insertable, Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";
import { batches, inBatches } from "./batch";

export type PointRow = Selectable<Tables["points"]>;

/** An item's points, newest first (ties by id, so the order is stable). */
export function pointsNewestFirst(db: Db, itemId: number): Promise<PointRow[]> {
  return db.selectFrom("points").selectAll().where("item_id", "=", itemId).orderBy("captured_at", "desc").orderBy("id", "desc").execute();
}

/** An item's points, oldest first. */
export function pointsOldestFirst(db: Db, itemId: number): Promise<PointRow[]> {
  return db.selectFrom("points").selectAll().where("item_id", "=", itemId).orderBy("captured_at").orderBy("id").execute();
}

export function latestPoint(db: Db, itemId: number): Promise<PointRow | undefined> {
  return db.selectFrom("points").selectAll().where("item_id", "=", itemId).orderBy("captured_at", "desc").orderBy("id", "desc").executeTakeFirst();
}

/** A point of an item by id. */
export function findPointOf(db: Db, itemId: number, id: string): Promise<PointRow | undefined> {
  return db.selectFrom("points").selectAll().where("id", "=", id).where("item_id", "=", itemId).executeTakeFirst();
}

export function pointsByIds(db: Db, ids: readonly string[]): Promise<PointRow[]> {
  return inBatches(ids, (batch) => db.selectFrom("points").selectAll().where("id", "in", batch).execute());
}

export async function countPoints(db: Db, itemId: number): Promise<number> {
  return (
    await db
      .selectFrom("points")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("item_id", "=", itemId)
      .executeTakeFirstOrThrow()
  ).n;
}

/** When an item's points were captured: the latest at or before `from`, then those in (from, to], oldest first. */
export async function captureTimes(db: Db, itemId: number, from: number, to: number): Promise<number[]> {
  const before = await db
    .selectFrom("points")
    .select("captured_at")
    .where("item_id", "=", itemId)
    .where("captured_at", "<=", from)
    .orderBy("captured_at", "desc")
    .limit(1)
    .execute();
  const inside = await db
    .selectFrom("points")
    .select("captured_at")
    .where("item_id", "=", itemId)
    .where("captured_at", ">", from)
    .where("captured_at", "<=", to)
    .orderBy("captured_at")
    .execute();
  return [...before, ...inside].map((p) => p.captured_at);
}

export async function insertPoint(db: Db, row: Insertable<Tables["points"]>): Promise<void> {
  await db.insertInto("points").values(row).execute();
}

export async function deletePoints(db: Db, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.deleteFrom("points").where("id", "in", batch).execute();
}

/** Delete all points of an item; how many there were. */
export async function deletePointsOfItem(db: Db, itemId: number): Promise<number> {
  return Number((await db.deleteFrom("points").where("item_id", "=", itemId).executeTakeFirst()).numDeletedRows);
}

/** Every item's id with its policy's retention. */
export function retentionOfItems(db: Db): Promise<Array<{ id: number; retention_hours: number }>> {
  return db.selectFrom("items").innerJoin("policies", "policies.id", "items.policy_id").select(["items.id", "policies.retention_hours"]).execute();
}
