import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("meta")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("sites")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("path", "text")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("hosts")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("site_id", "integer", (c) => c.notNull().references("sites.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addUniqueConstraint("hosts_site_name", ["site_id", "name"])
    .execute();
  await db.schema
    .createTable("policies")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("copy_frequency", "text", (c) => c.notNull())
    .addColumn("retention_hours", "integer", (c) => c.notNull())
    .addColumn("app_consistent_hours", "integer", (c) => c.notNull())
    .addColumn("rpo_threshold_minutes", "integer", (c) => c.notNull())
    .addColumn("initial_replication_start", "integer")
    .addColumn("resync_start", "text", (c) => c.notNull())
    .addColumn("resync_end", "text", (c) => c.notNull())
    .addColumn("failback_of", "integer", (c) => c.references("policies.id"))
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("items")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("site_id", "integer", (c) => c.notNull().references("sites.id"))
    .addColumn("host", "text")
    .addColumn("policy_id", "integer", (c) => c.notNull().references("policies.id"))
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("os_type", "text", (c) => c.notNull())
    .addColumn("group_name", "text")
    .addColumn("hooks", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("resync_reason", "text")
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "integer")
    .addColumn("error_code", "text")
    .addColumn("error_message", "text")
    .addColumn("error_recoverable", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error_since", "integer")
    .addColumn("last_attempt_at", "integer")
    .addColumn("last_app_point_at", "integer")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("disks")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("item_id", "integer", (c) => c.notNull().references("items.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("os", "integer", (c) => c.notNull())
    .addColumn("excluded", "integer", (c) => c.notNull())
    .addColumn("state_size", "integer")
    .addColumn("state_xxh", "blob")
    .addColumn("state_chunks", "blob")
    .addUniqueConstraint("disks_item_name", ["item_id", "name"])
    .execute();
  await db.schema
    .createTable("points")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("item_id", "integer", (c) => c.notNull().references("items.id"))
    .addColumn("captured_at", "integer", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("group_name", "text")
    .addColumn("window_id", "text")
    .addColumn("bytes_read", "integer", (c) => c.notNull())
    .addColumn("blocks_changed", "integer", (c) => c.notNull())
    .addColumn("bytes_stored", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("points_item_time").on("points").columns(["item_id", "captured_at"]).execute();
  await db.schema
    .createTable("point_disks")
    .addColumn("point_id", "text", (c) => c.notNull().references("points.id").onDelete("cascade"))
    .addColumn("disk_id", "integer", (c) => c.notNull().references("disks.id"))
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("block_size", "integer", (c) => c.notNull())
    .addColumn("chunks", "blob", (c) => c.notNull())
    .addPrimaryKeyConstraint("point_disks_pk", ["point_id", "disk_id"])
    .execute();
  await db.schema
    .createTable("manifest_chunks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("data", "blob", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("blocks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("pack", "text", (c) => c.notNull())
    .addColumn("offset", "integer", (c) => c.notNull())
    .addColumn("length", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("started_at", "integer")
    .addColumn("ended_at", "integer")
    .addColumn("error_code", "text")
    .addColumn("error_message", "text")
    .addColumn("result", "text")
    .execute();
  await db.schema
    .createTable("tasks")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
    .addColumn("parent_id", "integer")
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("progress", "real", (c) => c.notNull().defaultTo(0))
    .addColumn("detail", "text")
    .addColumn("started_at", "integer")
    .addColumn("ended_at", "integer")
    .addColumn("error_message", "text")
    .execute();
  await db.schema.createIndex("tasks_job").on("tasks").column("job_id").execute();
  await sql`select 1`.execute(db);
}
