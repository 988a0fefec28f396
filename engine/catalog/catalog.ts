import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, type Migration } from "kysely";
import type { Tables } from "./tables";
import * as initial from "./migrations/001-initial";
import * as failover from "./migrations/002-failover";
import * as plans from "./migrations/003-plans";
import * as tokens from "./migrations/004-tokens";
import * as agents from "./migrations/005-agents";
import * as crash from "./migrations/006-crash";
import * as damage from "./migrations/007-damage";
import * as partialOutputs from "./migrations/008-partial-outputs";
import * as migratedOnce from "./migrations/009-migrated-once";
import * as changeTracking from "./migrations/010-change-tracking";

export type CatalogDb = Kysely<Tables>;

const migrations: Record<string, Migration> = {
  "001-initial": initial,
  "002-failover": failover,
  "003-plans": plans,
  "004-tokens": tokens,
  "005-agents": agents,
  "006-crash": crash,
  "007-damage": damage,
  "008-partial-outputs": partialOutputs,
  "009-migrated-once": migratedOnce,
  "010-change-tracking": changeTracking,
};

/**
 * Open (and migrate) the SQLite catalog. WAL lets readers (status, points) run beside a writer;
 * synchronous=FULL makes each commit durable, which recovery points rely on.
 */
export async function openCatalog(file: string): Promise<CatalogDb> {
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 30000");
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Migrations are numbered ahead by the change that needs them and may land in any order (007 after 008):
  // a vault that has a later one still takes an earlier one it lacks. Each is independent of the others.
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
