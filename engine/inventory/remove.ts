import type { Vault } from "../vault";
import { ConflictError, EngineError, NotFoundError } from "../errors";
import { siteRow } from "./sites";
import { networkRow } from "./networks";
import { policyRow } from "./policies";

/** A removal refused because something still uses the object: 409, naming the users. */
function inUse(code: "SiteInUse" | "PolicyInUse" | "NetworkInUse", what: string, users: string[], hint: string): EngineError {
  return new EngineError(code, `${what} is used by ${users.join(", ")}; ${hint}`, { field: "name" });
}

const names = (rows: Array<{ name: string }>) => rows.map((r) => r.name);

/** Items whose recovery settings name a site or a network (kept as JSON on the item). */
async function itemsByRecovery(vault: Vault, key: "site" | "network", value: string): Promise<string[]> {
  const rows = await vault.db.selectFrom("items").select(["name", "recovery"]).where("recovery", "is not", null).orderBy("name").execute();
  return rows.filter((r) => (JSON.parse(r.recovery!) as Record<string, unknown>)[key] === value).map((r) => `item '${r.name}' (recovery ${key})`);
}

/** Remove a site and its hosts; refused while machines live there, fail over to it, or networks belong to it. */
export async function removeSite(vault: Vault, name: string): Promise<{ deleted: string }> {
  const site = await siteRow(vault, name);
  const users = [
    ...names(await vault.db.selectFrom("items").select("name").where("site_id", "=", site.id).orderBy("name").execute()).map((n) => `item '${n}'`),
    ...(await itemsByRecovery(vault, "site", name)),
    ...names(await vault.db.selectFrom("networks").select("name").where("site_id", "=", site.id).orderBy("name").execute()).map((n) => `network '${n}'`),
  ];
  if (users.length) throw inUse("SiteInUse", `site '${name}'`, users, "remove or move them first");
  await vault.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("hosts").where("site_id", "=", site.id).execute();
    await trx.deleteFrom("sites").where("id", "=", site.id).execute();
  });
  return { deleted: name };
}

/** Remove a policy and its failback policy; refused while items use either. */
export async function removePolicy(vault: Vault, name: string): Promise<{ deleted: string }> {
  const policy = await policyRow(vault, name);
  if (policy.failback_of !== null) {
    const parent = await vault.db.selectFrom("policies").select("name").where("id", "=", policy.failback_of).executeTakeFirstOrThrow();
    throw new ConflictError(`'${name}' is the failback policy of '${parent.name}'; remove '${parent.name}', which takes it along`, "name");
  }
  const failback = await vault.db.selectFrom("policies").select("id").where("failback_of", "=", policy.id).executeTakeFirst();
  const ids = [policy.id, ...(failback ? [failback.id] : [])];
  const users = names(await vault.db.selectFrom("items").select("name").where("policy_id", "in", ids).orderBy("name").execute()).map((n) => `item '${n}'`);
  if (users.length) throw inUse("PolicyInUse", `policy '${name}'`, users, "give them another policy or unprotect them first");
  await vault.db.transaction().execute(async (trx) => {
    if (failback) await trx.deleteFrom("policies").where("id", "=", failback.id).execute();
    await trx.deleteFrom("policies").where("id", "=", policy.id).execute();
  });
  return { deleted: name };
}

/** Remove a recovery network; refused while a mapping targets it, an item's recovery settings name it, or machines hold its addresses. */
export async function removeNetwork(vault: Vault, name: string): Promise<{ deleted: string }> {
  const network = await networkRow(vault, name);
  const mappings = await vault.db.selectFrom("network_mappings").select("source").where("target_id", "=", network.id).orderBy("source").execute();
  const machines = await vault.db
    .selectFrom("ip_allocations")
    .innerJoin("machines", "machines.id", "ip_allocations.machine_id")
    .innerJoin("items", "items.id", "machines.item_id")
    .select(["items.name", "machines.purpose", "ip_allocations.ip"])
    .where("ip_allocations.network_id", "=", network.id)
    .execute();
  const users = [
    ...mappings.map((m) => `network mapping '${m.source}'`),
    ...(await itemsByRecovery(vault, "network", name)),
    ...machines.map((m) => `the ${m.purpose} machine of '${m.name}' (${m.ip})`),
  ];
  if (users.length) throw inUse("NetworkInUse", `network '${name}'`, users, "remove those first");
  await vault.db.deleteFrom("networks").where("id", "=", network.id).execute();
  return { deleted: name };
}

export async function removeNetworkMapping(vault: Vault, source: string): Promise<{ deleted: string }> {
  const result = await vault.db.deleteFrom("network_mappings").where("source", "=", source).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError("network mapping", source);
  return { deleted: source };
}
