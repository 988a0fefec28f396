import type { Vault } from "../vault";
import { NetworkMappingSpec, NetworkSpec, parse, ValidationError } from "../../schema";
import { NotFoundError } from "../errors";
import type { NetworkView } from "../../schema";
export type { NetworkView };


export async function addNetwork(vault: Vault, input: unknown): Promise<NetworkView> {
  const spec = parse(NetworkSpec, input, "network");
  const site = await vault.db.selectFrom("sites").select(["id", "kind"]).where("name", "=", spec.site).executeTakeFirst();
  const failures = [];
  if (!site) failures.push({ property: "site", reason: `no site named '${spec.site}'` });
  else if (site.kind !== "recovery") failures.push({ property: "site", reason: `'${spec.site}' is not a recovery site` });
  if (await vault.db.selectFrom("networks").select("id").where("name", "=", spec.name).executeTakeFirst()) failures.push({ property: "name", reason: `a network named '${spec.name}' already exists` });
  if (failures.length) throw new ValidationError("network", failures);
  await vault.db.insertInto("networks").values({ name: spec.name, site_id: site!.id, subnets: JSON.stringify(spec.subnets) }).execute();
  return { name: spec.name, site: spec.site, subnets: spec.subnets };
}

export async function networkRow(vault: Vault, name: string) {
  const row = await vault.db.selectFrom("networks").innerJoin("sites", "sites.id", "networks.site_id").select(["networks.id", "networks.name", "networks.subnets", "sites.name as site"]).where("networks.name", "=", name).executeTakeFirst();
  if (!row) throw new NotFoundError("network", name);
  return { id: row.id, name: row.name, site: row.site, subnets: JSON.parse(row.subnets) as string[] };
}

export async function listNetworks(vault: Vault): Promise<NetworkView[]> {
  const rows = await vault.db.selectFrom("networks").select("name").orderBy("name").execute();
  return Promise.all(rows.map(async (r) => {
    const { name, site, subnets } = await networkRow(vault, r.name);
    return { name, site, subnets };
  }));
}

/** Map a source network to a recovery network; failovers of machines on that network default to it. */
export async function addNetworkMapping(vault: Vault, input: unknown): Promise<NetworkMappingSpec> {
  const spec = parse(NetworkMappingSpec, input, "network mapping");
  const target = await vault.db.selectFrom("networks").select("id").where("name", "=", spec.target).executeTakeFirst();
  const failures = [];
  if (!target) failures.push({ property: "target", reason: `no recovery network named '${spec.target}'` });
  if (await vault.db.selectFrom("network_mappings").select("source").where("source", "=", spec.source).executeTakeFirst()) failures.push({ property: "source", reason: `'${spec.source}' is already mapped` });
  if (failures.length) throw new ValidationError("network mapping", failures);
  await vault.db.insertInto("network_mappings").values({ source: spec.source, target_id: target!.id }).execute();
  return spec;
}

export async function listNetworkMappings(vault: Vault): Promise<NetworkMappingSpec[]> {
  return vault.db.selectFrom("network_mappings").innerJoin("networks", "networks.id", "network_mappings.target_id").select(["network_mappings.source", "networks.name as target"]).orderBy("source").execute();
}
