import type { Insertable, Selectable, Updateable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type MachineRow = Selectable<Tables["machines"]>;

/** An item's machine of a purpose ("failover" or "drill"; an item has at most one of each). */
export function findMachine(db: Db, itemId: number, purpose: string): Promise<MachineRow | undefined> {
  return db.selectFrom("machines").selectAll().where("item_id", "=", itemId).where("purpose", "=", purpose).executeTakeFirst();
}

export function insertMachine(db: Db, row: Insertable<Tables["machines"]>): Promise<MachineRow> {
  return db.insertInto("machines").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateMachine(db: Db, id: number, changes: Updateable<Tables["machines"]>): Promise<void> {
  await db.updateTable("machines").set(changes).where("id", "=", id).execute();
}

/** Delete a machine's row and the addresses it holds. */
export async function deleteMachine(db: Db, id: number): Promise<void> {
  await db.deleteFrom("ip_allocations").where("machine_id", "=", id).execute();
  await db.deleteFrom("machines").where("id", "=", id).execute();
}
