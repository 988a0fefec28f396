import type { Vault } from "../vault";
import { parse, SiteSpec, ValidationError, Name, type SiteKind } from "../../schema";
import { NotFoundError } from "../errors";
import type { SiteView } from "../../schema";
export type { SiteView };
import { findSite, insertSite, siteNames } from "../catalog/sites";
import { findHost, hostNames, insertHosts } from "../catalog/hosts";

export async function addSite(vault: Vault, input: unknown): Promise<SiteView> {
  const spec = parse(SiteSpec, input, "site");
  if (spec.kind === "recovery" && !spec.path)
    throw new ValidationError("site", [{ property: "path", reason: "a recovery site needs the directory where machines are materialized" }]);
  if (await findSite(vault.db, spec.name)) {
    throw new ValidationError("site", [{ property: "name", reason: `a site named '${spec.name}' already exists` }]);
  }
  await vault.db.transaction().execute(async (trx) => {
    const id = await insertSite(trx, { name: spec.name, kind: spec.kind, path: spec.path ?? null, created_at: vault.clock.now() });
    await insertHosts(trx, id, spec.hosts);
  });
  return getSite(vault, spec.name);
}

export async function addHost(vault: Vault, siteName: string, host: string): Promise<SiteView> {
  const name = parse(Name, host, "host");
  const site = await siteRow(vault, siteName);
  if (await findHost(vault.db, site.id, name)) {
    throw new ValidationError("host", [{ property: "name", reason: `site '${siteName}' already has a host named '${name}'` }]);
  }
  await insertHosts(vault.db, site.id, [name]);
  return getSite(vault, siteName);
}

export async function siteRow(vault: Vault, name: string) {
  const row = await findSite(vault.db, name);
  if (!row) throw new NotFoundError("site", name);
  return row;
}

export async function getSite(vault: Vault, name: string): Promise<SiteView> {
  const row = await siteRow(vault, name);
  return { name: row.name, kind: row.kind as SiteKind, path: row.path, hosts: await hostNames(vault.db, row.id) };
}

export async function listSites(vault: Vault): Promise<SiteView[]> {
  return Promise.all((await siteNames(vault.db)).map((name) => getSite(vault, name)));
}
