import type { Db } from "./db";

export function findNetworkId(db: Db, name: string): Promise<{ id: number } | undefined> {
  return db.selectFrom("networks").select("id").where("name", "=", name).executeTakeFirst();
}

/** A network with its site's name; subnets are JSON. */
export function findNetwork(db: Db, name: string): Promise<{ id: number; name: string; subnets: string; site: string } | undefined> {
  return db
    .selectFrom("networks")
    .innerJoin("sites", "sites.id", "networks.site_id")
    .select(["networks.id", "networks.name", "networks.subnets", "sites.name as site"])
    .where("networks.name", "=", name)
    .executeTakeFirst();
}

export async function networkNames(db: Db): Promise<string[]> {
  return (await db.selectFrom("networks").select("name").orderBy("name").execute()).map((r) => r.name);
}

/** Names of the networks of a site, in name order. */
export async function networkNamesOfSite(db: Db, siteId: number): Promise<string[]> {
  return (await db.selectFrom("networks").select("name").where("site_id", "=", siteId).orderBy("name").execute()).map((r) => r.name);
}

export async function insertNetwork(db: Db, row: { name: string; site_id: number; subnets: string }): Promise<void> {
  await db.insertInto("networks").values(row).execute();
}

export async function deleteNetwork(db: Db, id: number): Promise<void> {
  await db.deleteFrom("networks").where("id", "=", id).execute();
}

export function findNetworkMapping(db: Db, source: string): Promise<{ source: string } | undefined> {
  return db.selectFrom("network_mappings").select("source").where("source", "=", source).executeTakeFirst();
}

export async function insertNetworkMapping(db: Db, source: string, targetId: number): Promise<void> {
  await db.insertInto("network_mappings").values({ source, target_id: targetId }).execute();
}

/** Every mapping with its target network's name, in source order. */
export function networkMappings(db: Db): Promise<Array<{ source: string; target: string }>> {
  return db
    .selectFrom("network_mappings")
    .innerJoin("networks", "networks.id", "network_mappings.target_id")
    .select(["network_mappings.source", "networks.name as target"])
    .orderBy("source")
    .execute();
}

/** Sources of the mappings to a network, in source order. */
export async function mappingSourcesTo(db: Db, networkId: number): Promise<string[]> {
  return (await db.selectFrom("network_mappings").select("source").where("target_id", "=", networkId).orderBy("source").execute()).map((m) => m.source);
}

/** Delete a mapping; whether there was one. */
export async function deleteNetworkMapping(db: Db, source: string): Promise<boolean> {
  const result = await db.deleteFrom("network_mappings").where("source", "=", source).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The machines holding addresses of a network: their item's name, purpose and IP. */
export function allocationsOnNetwork(db: Db, networkId: number): Promise<Array<{ name: string; purpose: string; ip: string }>> {
  return db
    .selectFrom("ip_allocations")
    .innerJoin("machines", "machines.id", "ip_allocations.machine_id")
    .innerJoin("items", "items.id", "machines.item_id")
    .select(["items.name", "machines.purpose", "ip_allocations.ip"])
    .where("ip_allocations.network_id", "=", networkId)
    .execute();
}

/** The recovery network a source network is mapped to. */
export async function mappedNetworkName(db: Db, source: string): Promise<string | undefined> {
  return (
    await db
      .selectFrom("network_mappings")
      .innerJoin("networks", "networks.id", "network_mappings.target_id")
      .select("networks.name")
      .where("source", "=", source)
      .executeTakeFirst()
  )?.name;
}

/** The addresses of a network machines of a purpose hold. */
export async function takenAddresses(db: Db, networkId: number, purpose: string): Promise<string[]> {
  return (await db.selectFrom("ip_allocations").select("ip").where("network_id", "=", networkId).where("purpose", "=", purpose).execute()).map((r) => r.ip);
}

export async function insertAddresses(db: Db, rows: Array<{ network_id: number; purpose: string; ip: string; machine_id: number }>): Promise<void> {
  await db.insertInto("ip_allocations").values(rows).execute();
}
