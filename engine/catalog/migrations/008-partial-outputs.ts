import type { Kysely } from "kysely";

/**
 * Files being written outside the vault (materialized disks under their `.partial` names), with the
 * process writing them, so that garbage collection can remove what a killed process left behind.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("partial_outputs")
    .addColumn("path", "text", (c) => c.primaryKey())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("started_at", "integer", (c) => c.notNull())
    .execute();
}
