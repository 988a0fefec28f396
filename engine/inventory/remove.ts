import type { Vault } from "../vault";
import { ConflictError, EngineError, NotFoundError } from "../errors";
import { siteRow } from "./sites";
import { networkRow } from "./networks";
import { policyRow } from "./policies";
import { itemNamesOfPolicies, itemNamesOfSite, itemsWithRecovery } from "../catalog/items";
import { deleteSite } from "../catalog/sites";
import { deleteSiteHosts } from "../catalog/hosts";
import { deletePolicy, failbackPolicyOf, policyNameById } from "../catalog/policies";
import { allocationsOnNetwork, deleteNetwork, deleteNetworkMapping, mappingSourcesTo, networkNamesOfSite } from "../catalog/networks";

/** A removal refused because something still uses the object: 409, naming the users. */
function inUse(code: "SiteInUse" | "PolicyInUse" | "NetworkInUse", what: string, users: string[], hint: string): EngineError {
  return new EngineError(code, `${what} is used by ${users.join(", ")}; ${hint}`, { field: "name" });
}

/** Items whose recovery settings name a site or a network (kept as JSON on the item). */
async function itemsByRecovery(vault: Vault, key: "site" | "network", value: string): Promise<string[]> {
  const rows = await itemsWithRecovery(vault.db);
  return rows.filter((r) => (JSON.parse(r.recovery!) as Record<string, unknown>)[key] === value).map((r) => `item '${r.name}' (recovery ${key})`);
}

/** Remove a site and its hosts; refused while machines live there, fail over to it, or networks belong to it. */
export async function removeSite(vault: Vault, name: string): Promise<{ deleted: string }> {
  const site = await siteRow(vault, name);
  const users = [
    ...(await itemNamesOfSite(vault.db, site.id)).map((n) => `item '${n}'`),
    ...(await itemsByRecovery(vault, "site", name)),
    ...(await networkNamesOfSite(vault.db, site.id)).map((n) => `network '${n}'`),
  ];
  if (users.length) throw inUse("SiteInUse", `site '${name}'`, users, "remove or move them first");
  await vault.db.transaction().execute(async (trx) => {
    await deleteSiteHosts(trx, site.id);
    await deleteSite(trx, site.id);
  });
  return { deleted: name };
}

/** Remove a policy and its failback policy; refused while items use either. */
export async function removePolicy(vault: Vault, name: string): Promise<{ deleted: string }> {
  const policy = await policyRow(vault, name);
  if (policy.failback_of !== null) {
    const parent = (await policyNameById(vault.db, policy.failback_of))!;
    throw new ConflictError(`'${name}' is the failback policy of '${parent.name}'; remove '${parent.name}', which takes it along`, "name");
  }
  const failback = await failbackPolicyOf(vault.db, policy.id);
  const ids = [policy.id, ...(failback ? [failback.id] : [])];
  const users = (await itemNamesOfPolicies(vault.db, ids)).map((n) => `item '${n}'`);
  if (users.length) throw inUse("PolicyInUse", `policy '${name}'`, users, "give them another policy or unprotect them first");
  await vault.db.transaction().execute(async (trx) => {
    if (failback) await deletePolicy(trx, failback.id);
    await deletePolicy(trx, policy.id);
  });
  return { deleted: name };
}

/** Remove a recovery network; refused while a mapping targets it, an item's recovery settings name it, or machines hold its addresses. */
export async function removeNetwork(vault: Vault, name: string): Promise<{ deleted: string }> {
  const network = await networkRow(vault, name);
  const mappings = await mappingSourcesTo(vault.db, network.id);
  const machines = await allocationsOnNetwork(vault.db, network.id);
  const users = [
    ...mappings.map((source) => `network mapping '${source}'`),
    ...(await itemsByRecovery(vault, "network", name)),
    ...machines.map((m) => `the ${m.purpose} machine of '${m.name}' (${m.ip})`),
  ];
  if (users.length) throw inUse("NetworkInUse", `network '${name}'`, users, "remove those first");
  await deleteNetwork(vault.db, network.id);
  return { deleted: name };
}

export async function removeNetworkMapping(vault: Vault, source: string): Promise<{ deleted: string }> {
  if (!(await deleteNetworkMapping(vault.db, source))) throw new NotFoundError("network mapping", source);
  return { deleted: source };
}
