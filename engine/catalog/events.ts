import type { Db } from "./db";

export async function insertItemEvent(db: Db, itemId: number, at: number, code: string, message: string): Promise<void> {
  await db.insertInto("item_events").values({ item_id: itemId, at, code, message }).execute();
}

/** An item's latest `limit` events, newest first. */
export function latestItemEvents(db: Db, itemId: number, limit: number): Promise<Array<{ at: number; code: string; message: string }>> {
  return db.selectFrom("item_events").select(["at", "code", "message"]).where("item_id", "=", itemId).orderBy("id", "desc").limit(limit).execute();
}
