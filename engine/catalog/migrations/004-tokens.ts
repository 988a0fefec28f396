import type { Kysely } from "kysely";

/** API tokens of the engine service, kept as SHA-256 hashes only; cycle durations for metrics. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("points")
    .addColumn("duration_ms", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable("tokens")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("sha256", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("expires_at", "integer")
    .addColumn("revoked_at", "integer")
    .execute();
}
