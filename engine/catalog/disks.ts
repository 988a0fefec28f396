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

/** A disk's replication state: size, change hashes and chunk list as last read (null before initial replication). */
export function diskState(db: Db, diskId: number): Promise<Pick<DiskRow, "state_size" | "state_xxh" | "state_chunks">> {
  return db.selectFrom("disks").select(["state_size", "state_xxh", "state_chunks"]).where("id", "=", diskId).executeTakeFirstOrThrow();
}

/**
 * Save a disk's replication state and bump its version (an agent's changes apply only to the version it read).
 * The tracker checkpoint the state was read at goes with it: a state that came from anywhere else (a scan, a
 * failback, a restore) has none, so the next tracked capture reads the whole disk.
 */
export async function saveDiskStateRow(
  db: Db,
  diskId: number,
  state: { size: number; xxh: Buffer; chunks: Buffer; checkpoint?: string | null; trackingReset?: string | null },
): Promise<void> {
  await db
    .updateTable("disks")
    .set((eb) => ({
      state_size: state.size,
      state_xxh: state.xxh,
      state_chunks: state.chunks,
      state_version: eb("state_version", "+", 1),
      checkpoint: state.checkpoint ?? null,
      tracking_reset: state.trackingReset ?? null,
    }))
    .where("id", "=", diskId)
    .execute();
}

/** Every disk's state chunk list (for garbage collection). */
export async function allStateChunkLists(db: Db): Promise<Buffer[]> {
  return (await db.selectFrom("disks").select("state_chunks").where("state_chunks", "is not", null).execute()).map((r) => r.state_chunks!);
}

export async function deleteDisksOfItem(db: Db, itemId: number): Promise<void> {
  await db.deleteFrom("disks").where("item_id", "=", itemId).execute();
}
