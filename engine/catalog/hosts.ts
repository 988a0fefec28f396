import type { Db } from "./db";

export function findHost(db: Db, siteId: number, name: string): Promise<{ id: number } | undefined> {
  return db.selectFrom("hosts").select("id").where("site_id", "=", siteId).where("name", "=", name).executeTakeFirst();
}

/** A site's host names, in name order. */
export async function hostNames(db: Db, siteId: number): Promise<string[]> {
  return (await db.selectFrom("hosts").select("name").where("site_id", "=", siteId).orderBy("name").execute()).map((h) => h.name);
}

export async function insertHosts(db: Db, siteId: number, names: string[]): Promise<void> {
  if (names.length)
    await db
      .insertInto("hosts")
      .values(names.map((name) => ({ site_id: siteId, name })))
      .execute();
}

export async function deleteHosts(db: Db, siteId: number, names: string[]): Promise<void> {
  if (names.length) await db.deleteFrom("hosts").where("site_id", "=", siteId).where("name", "in", names).execute();
}

export async function deleteSiteHosts(db: Db, siteId: number): Promise<void> {
  await db.deleteFrom("hosts").where("site_id", "=", siteId).execute();
}

/** A host of a site with its agent's registration and last call-in (both null for a host without an agent). */
export function findAgentHost(db: Db, siteId: number, name: string) {
  return db
    .selectFrom("hosts")
    .select(["name", "site_id", "agent_registered_at", "last_seen_at"])
    .where("site_id", "=", siteId)
    .where("name", "=", name)
    .executeTakeFirst();
}

/** A host by name whose agent registered, in whichever site. */
export function findRegisteredHost(db: Db, name: string): Promise<{ id: number; site_id: number; name: string } | undefined> {
  return db.selectFrom("hosts").select(["id", "site_id", "name"]).where("name", "=", name).where("agent_registered_at", "is not", null).executeTakeFirst();
}

/** The sites that have a host of this name. */
export function sitesWithHost(db: Db, name: string): Promise<Array<{ id: number; name: string }>> {
  return db.selectFrom("hosts").innerJoin("sites", "sites.id", "hosts.site_id").select(["sites.id", "sites.name"]).where("hosts.name", "=", name).execute();
}

/** Record an agent's registration on a host of a site, adding the host when new. */
export async function registerHostAgent(db: Db, siteId: number, name: string, now: number): Promise<void> {
  const known = await findHost(db, siteId, name);
  if (known) await db.updateTable("hosts").set({ agent_registered_at: now, last_seen_at: now }).where("id", "=", known.id).execute();
  else await db.insertInto("hosts").values({ site_id: siteId, name, agent_registered_at: now, last_seen_at: now }).execute();
}

export async function setHostSeen(db: Db, id: number, at: number): Promise<void> {
  await db.updateTable("hosts").set({ last_seen_at: at }).where("id", "=", id).execute();
}
