import type { Insertable, Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type DiskRow = Selectable<Tables["disks"]>;

/** The disks replication copies (excluded disks are left out), in id order. */
export function includedDisks(db: Db, itemId: number): Promise<DiskRow[]> {
  return db.selectFrom("disks").selectAll().where("item_id", "=", itemId).where("excluded", "=", 0).orderBy("id").execute();
}

/** All disks of an item, in id order. */
export function allDisks(db: Db, itemId: number): Promise<DiskRow[]> {
  return db.selectFrom("disks").selectAll().where("item_id", "=", itemId).orderBy("id").execute();
}

export async function insertDisks(db: Db, rows: Array<Insertable<Tables["disks"]>>): Promise<void> {
  await db.insertInto("disks").values(rows).execute();
}

export async function updateDisk(db: Db, id: number, changes: Partial<Omit<DiskRow, "id" | "item_id">>): Promise<void> {
  await db.updateTable("disks").set(changes).where("id", "=", id).execute();
}
