import type { Kysely } from "kysely";

/**
 * Agents on source hosts: a host remembers when its agent registered and was last heard from; agent
 * tokens are bound to their host; a disk's replication state carries a version so an agent's report is
 * applied only on top of the state it read; an item handed to an agent is leased to it for a while.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("hosts").addColumn("agent_registered_at", "integer").execute();
  await db.schema.alterTable("hosts").addColumn("last_seen_at", "integer").execute();
  await db.schema.alterTable("tokens").addColumn("host", "text").execute();
  await db.schema
    .alterTable("disks")
    .addColumn("state_version", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("items").addColumn("lease_until", "integer").execute();
}
