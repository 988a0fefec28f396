import type { Kysely } from "kysely";

/**
 * Nothing half-done after a crash. A running job names the process that runs it (host, pid, and that
 * process's start, which tells a reused pid apart), so a job whose process died can be ended. An item
 * keeps a history of what happened to it outside its jobs (a job interrupted, a window closed after a crash).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("jobs").addColumn("owner_host", "text").execute();
  await db.schema.alterTable("jobs").addColumn("owner_pid", "integer").execute();
  await db.schema.alterTable("jobs").addColumn("owner_start", "text").execute();
  await db.schema.createIndex("jobs_state").on("jobs").column("state").execute();
  await db.schema
    .createTable("item_events")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("item_id", "integer", (c) => c.notNull().references("items.id").onDelete("cascade"))
    .addColumn("at", "integer", (c) => c.notNull())
    .addColumn("code", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("item_events_item").on("item_events").columns(["item_id", "id"]).execute();
}
