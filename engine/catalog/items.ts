import type { Insertable, Selectable, Updateable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";
import type { StoredProtectionState } from "../../schema";

export type ItemRow = Selectable<Tables["items"]>;

export function findItem(db: Db, name: string): Promise<ItemRow | undefined> {
  return db.selectFrom("items").selectAll().where("name", "=", name).executeTakeFirst();
}

/** An item by id; throws when there is none (callers hold an id they just read). */
export function itemById(db: Db, id: number): Promise<ItemRow> {
  return db.selectFrom("items").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export function findItemId(db: Db, name: string): Promise<{ id: number } | undefined> {
  return db.selectFrom("items").select("id").where("name", "=", name).executeTakeFirst();
}

/** Every item, in name order. */
export function allItems(db: Db): Promise<ItemRow[]> {
  return db.selectFrom("items").selectAll().orderBy("name").execute();
}

export async function itemNames(db: Db): Promise<string[]> {
  return (await db.selectFrom("items").select("name").execute()).map((r) => r.name);
}

/** Names of the items of a site, in name order. */
export async function itemNamesOfSite(db: Db, siteId: number): Promise<string[]> {
  return (await db.selectFrom("items").select("name").where("site_id", "=", siteId).orderBy("name").execute()).map((r) => r.name);
}

/** Names of the items using any of these policies, in name order. */
export async function itemNamesOfPolicies(db: Db, policyIds: number[]): Promise<string[]> {
  return (await db.selectFrom("items").select("name").where("policy_id", "in", policyIds).orderBy("name").execute()).map((r) => r.name);
}

/** The items of a site that run on any of these hosts, in name order. */
export function itemsOnHosts(db: Db, siteId: number, hosts: string[]): Promise<Array<{ name: string; host: string | null }>> {
  return db.selectFrom("items").select(["name", "host"]).where("site_id", "=", siteId).where("host", "in", hosts).orderBy("name").execute();
}

/** Items with recovery settings (JSON), in name order. */
export function itemsWithRecovery(db: Db): Promise<Array<{ name: string; recovery: string | null }>> {
  return db.selectFrom("items").select(["name", "recovery"]).where("recovery", "is not", null).orderBy("name").execute();
}

/** An item by name that runs on a host of a site. */
export function findItemOnHost(db: Db, name: string, host: string, siteId: number): Promise<{ id: number } | undefined> {
  return db.selectFrom("items").select("id").where("name", "=", name).where("host", "=", host).where("site_id", "=", siteId).executeTakeFirst();
}

/** Set columns of one item other than its state and failover state (those go through the state machines). */
export async function updateItemColumns(db: Db, id: number, changes: ItemColumns): Promise<void> {
  await db.updateTable("items").set(changes).where("id", "=", id).execute();
}

export type ItemColumns = Partial<Omit<ItemRow, "id" | "name" | "state" | "failover_state">>;

/** End the leases a host's agent holds on items of a site (set to `now`: an expired lease marks work abandoned mid-way). */
export async function endHostLeases(db: Db, host: string, siteId: number, now: number): Promise<void> {
  await db.updateTable("items").set({ lease_until: now }).where("host", "=", host).where("site_id", "=", siteId).where("lease_until", ">", now).execute();
}

/** Extend the leases of the named items of a host of a site. */
export async function extendLeases(db: Db, host: string, siteId: number, names: string[], until: number): Promise<void> {
  await db.updateTable("items").set({ lease_until: until }).where("host", "=", host).where("site_id", "=", siteId).where("name", "in", names).execute();
}

/** Any one item whose last failure has this error code. */
export function anyItemFailingWith(db: Db, code: string): Promise<{ id: number } | undefined> {
  return db.selectFrom("items").select("id").where("error_code", "=", code).executeTakeFirst();
}

/** Delete an item's row (its points, disks and drills go first: see replication/unprotect.ts). */
export async function deleteItem(db: Db, id: number): Promise<void> {
  await db.deleteFrom("items").where("id", "=", id).execute();
}

/** Items with their policy's scheduling columns (of one host of a site, when given), in id order. */
export function itemsWithSchedule(db: Db, host?: { siteId: number; name: string }) {
  let query = db
    .selectFrom("items")
    .innerJoin("policies", "policies.id", "items.policy_id")
    .selectAll("items")
    .select(["policies.copy_frequency", "policies.app_consistent_hours", "policies.initial_replication_start", "policies.resync_start", "policies.resync_end"]);
  if (host) query = query.where("items.site_id", "=", host.siteId).where("items.host", "=", host.name);
  return query.orderBy("items.id").execute();
}

/** Items in any of these states. */
export function itemsInStates(db: Db, states: StoredProtectionState[]): Promise<ItemRow[]> {
  return db.selectFrom("items").selectAll().where("state", "in", states).execute();
}

/** The items of a replication group in a state, in id order. */
export function groupItemsInState(db: Db, group: string, state: StoredProtectionState): Promise<ItemRow[]> {
  return db.selectFrom("items").selectAll().where("group_name", "=", group).where("state", "=", state).orderBy("id").execute();
}

/** An item's state columns, as the state machine reads them (inventory/item-state-write.ts). */
export function itemStateColumns(db: Db, id: number) {
  return db.selectFrom("items").select(["name", "state", "failover_state", "resync_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
}

/** Write any columns of an item, its state among them: only the state machine's writer calls this. */
export async function updateItemRow(db: Db, id: number, changes: Updateable<Tables["items"]>): Promise<void> {
  await db.updateTable("items").set(changes).where("id", "=", id).execute();
}

/** Insert an item row and answer its id. */
export async function insertItemRow(db: Db, row: Insertable<Tables["items"]>): Promise<number> {
  const { id } = await db.insertInto("items").values(row).returning("id").executeTakeFirstOrThrow();
  return id;
}
