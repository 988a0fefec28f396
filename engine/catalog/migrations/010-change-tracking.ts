import type { Kysely } from "kysely";

/**
 * Change tracking. `items.qmp`: the QMP socket of the QEMU serving a machine on a kvm site (its disks' paths are
 * then block node names). Per disk, `checkpoint`: the tracker's checkpoint the disk's state was read at,
 * written with the point in one transaction (null: the next cycle reads the whole disk); `tracking_reset`: why
 * the last cycle could not follow the tracker and read the whole disk (null when it followed it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("items").addColumn("qmp", "text").execute();
  await db.schema.alterTable("disks").addColumn("checkpoint", "text").execute();
  await db.schema.alterTable("disks").addColumn("tracking_reset", "text").execute();
}
