import type { Vault } from "../vault";
import { NetworkMappingSpec, NetworkSpec, parse, ValidationError } from "../../schema";
import { NotFoundError } from "../errors";
import type { NetworkView } from "../../schema";
export type { NetworkView };
import { findSite } from "../catalog/sites";
import { findNetwork, findNetworkId, findNetworkMapping, insertNetwork, insertNetworkMapping, networkMappings, networkNames } from "../catalog/networks";

export async function addNetwork(vault: Vault, input: unknown): Promise<NetworkView> {
  const spec = parse(NetworkSpec, input, "network");
  const site = await findSite(vault.db, spec.site);
  const failures = [];
  if (!site) failures.push({ property: "site", reason: `no site named '${spec.site}'` });
  else if (site.kind !== "recovery") failures.push({ property: "site", reason: `'${spec.site}' is not a recovery site` });
  if (await findNetworkId(vault.db, spec.name)) failures.push({ property: "name", reason: `a network named '${spec.name}' already exists` });
  if (failures.length) throw new ValidationError("network", failures);
  await insertNetwork(vault.db, { name: spec.name, site_id: site!.id, subnets: JSON.stringify(spec.subnets) });
  return { name: spec.name, site: spec.site, subnets: spec.subnets };
}

export async function networkRow(vault: Vault, name: string) {
  const row = await findNetwork(vault.db, name);
  if (!row) throw new NotFoundError("network", name);
  return { id: row.id, name: row.name, site: row.site, subnets: JSON.parse(row.subnets) as string[] };
}

export async function listNetworks(vault: Vault): Promise<NetworkView[]> {
  return Promise.all(
    (await networkNames(vault.db)).map(async (network) => {
      const { name, site, subnets } = await networkRow(vault, network);
      return { name, site, subnets };
    }),
  );
}

/** Map a source network to a recovery network; failovers of machines on that network default to it. */
export async function addNetworkMapping(vault: Vault, input: unknown): Promise<NetworkMappingSpec> {
  const spec = parse(NetworkMappingSpec, input, "network mapping");
  const target = await findNetworkId(vault.db, spec.target);
  const failures = [];
  if (!target) failures.push({ property: "target", reason: `no recovery network named '${spec.target}'` });
  if (await findNetworkMapping(vault.db, spec.source)) failures.push({ property: "source", reason: `'${spec.source}' is already mapped` });
  if (failures.length) throw new ValidationError("network mapping", failures);
  await insertNetworkMapping(vault.db, spec.source, target!.id);
  return spec;
}

export async function listNetworkMappings(vault: Vault): Promise<NetworkMappingSpec[]> {
  return networkMappings(vault.db);
}
