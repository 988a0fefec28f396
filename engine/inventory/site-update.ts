import type { Vault } from "../vault";
import { parse, SiteUpdate, ValidationError } from "../../schema";
import { EngineError } from "../errors";
import { getSite, siteRow, type SiteView } from "./sites";
import { setSitePath } from "../catalog/sites";
import { deleteHosts, insertHosts } from "../catalog/hosts";
import { itemsOnHosts } from "../catalog/items";

/**
 * Change a site in place: `hosts` is the full list (new ones are added, missing ones removed; removing a
 * host that machines run on is refused, naming them), `path` moves where a recovery site materializes
 * machines from now on (machines already there stay where they are).
 */
export async function updateSite(vault: Vault, name: string, input: unknown): Promise<SiteView> {
  const update = parse(SiteUpdate, input, "site update");
  const site = await siteRow(vault, name);
  if (update.path !== undefined && site.kind !== "recovery") {
    throw new ValidationError("site update", [{ property: "path", reason: `'${name}' is a ${site.kind} site; only recovery sites have a directory` }]);
  }
  const current = await getSite(vault, name);
  const removed = update.hosts ? current.hosts.filter((h) => !update.hosts!.includes(h)) : [];
  const added = update.hosts ? update.hosts.filter((h) => !current.hosts.includes(h)) : [];
  if (removed.length) {
    const users = await itemsOnHosts(vault.db, site.id, removed);
    if (users.length) {
      const list = users.map((u) => `'${u.name}' on ${u.host}`).join(", ");
      throw new EngineError(
        "HostInUse",
        `cannot remove host(s) ${[...new Set(users.map((u) => u.host))].join(", ")} of site '${name}': machines run there (${list}); move or unprotect them first`,
        { field: "hosts" },
      );
    }
  }
  await vault.db.transaction().execute(async (trx) => {
    await deleteHosts(trx, site.id, removed);
    await insertHosts(trx, site.id, added);
    if (update.path !== undefined) await setSitePath(trx, site.id, update.path);
  });
  return getSite(vault, name);
}
