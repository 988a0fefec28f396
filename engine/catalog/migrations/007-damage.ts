import type { Kysely } from "kysely";

/**
 * Scrub results. damaged_blocks: stored block copies (or manifest chunks) found unreadable or not matching
 * their id, until found intact again. point_damage: how many of those each disk of a point relies on; it
 * goes with its point.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("damaged_blocks")
    .addColumn("id", "text", (c) => c.primaryKey())
    /** "block" (in the block store) or "chunk" (a manifest chunk in the catalog). */
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("found_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("point_damage")
    .addColumn("point_id", "text", (c) => c.notNull().references("points.id").onDelete("cascade"))
    .addColumn("disk_id", "integer", (c) => c.notNull().references("disks.id").onDelete("cascade"))
    .addColumn("blocks", "integer", (c) => c.notNull())
    .addColumn("found_at", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("point_damage_pk", ["point_id", "disk_id"])
    .execute();
}
