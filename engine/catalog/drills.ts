import type { Insertable, Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type DrillRow = Selectable<Tables["drills"]>;

/** An item's drill not cleaned up yet (an item has at most one). */
export function openDrill(db: Db, itemId: number): Promise<DrillRow | undefined> {
  return db.selectFrom("drills").selectAll().where("item_id", "=", itemId).where("cleaned_at", "is", null).executeTakeFirst();
}

export async function insertDrill(db: Db, row: Insertable<Tables["drills"]>): Promise<void> {
  await db.insertInto("drills").values(row).execute();
}

export async function markDrillCleaned(db: Db, id: string, at: number, notes: string | null): Promise<void> {
  await db.updateTable("drills").set({ cleaned_at: at, notes }).where("id", "=", id).execute();
}

export async function deleteItemDrills(db: Db, itemId: number): Promise<void> {
  await db.deleteFrom("drills").where("item_id", "=", itemId).execute();
}
