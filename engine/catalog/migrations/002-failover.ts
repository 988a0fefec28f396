import type { Kysely } from "kysely";

/** Failover: recovery settings and failover state of items, recovery networks, IP allocations, machines, drills. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("items").addColumn("recovery", "text").execute();
  await db.schema
    .alterTable("items")
    .addColumn("nics", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema
    .alterTable("items")
    .addColumn("active_site", "text", (c) => c.notNull().defaultTo("primary"))
    .execute();
  await db.schema.alterTable("items").addColumn("failover_state", "text").execute();
  await db.schema.alterTable("items").addColumn("failover_point", "text").execute();
  await db.schema.alterTable("items").addColumn("last_drill_at", "integer").execute();
  /** Where a disk lives at the primary site while replication reads the recovery machine's copy (reprotect). */
  await db.schema.alterTable("disks").addColumn("primary_path", "text").execute();
  await db.schema
    .alterTable("jobs")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable("networks")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("site_id", "integer", (c) => c.notNull().references("sites.id"))
    .addColumn("subnets", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("network_mappings")
    .addColumn("source", "text", (c) => c.primaryKey())
    .addColumn("target_id", "integer", (c) => c.notNull().references("networks.id"))
    .execute();
  await db.schema
    .createTable("ip_allocations")
    .addColumn("network_id", "integer", (c) => c.notNull().references("networks.id"))
    /** "failover", or "drill": a drill's isolated test network has its own address space. */
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("ip", "text", (c) => c.notNull())
    .addColumn("machine_id", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("ip_allocations_pk", ["network_id", "purpose", "ip"])
    .execute();
  await db.schema
    .createTable("machines")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("item_id", "integer", (c) => c.notNull().references("items.id"))
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("dir", "text", (c) => c.notNull())
    .addColumn("point_id", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("pid", "integer")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("drills")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("item_id", "integer", (c) => c.notNull().references("items.id"))
    .addColumn("machine_id", "integer")
    .addColumn("point_id", "text", (c) => c.notNull())
    .addColumn("started_at", "integer", (c) => c.notNull())
    .addColumn("cleaned_at", "integer")
    .addColumn("notes", "text")
    .addColumn("report", "text", (c) => c.notNull())
    .execute();
}
