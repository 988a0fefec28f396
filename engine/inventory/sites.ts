import type { Vault } from "../vault";
import { parse, SiteSpec, ValidationError, Name, type SiteKind } from "../../schema";
import { NotFoundError } from "../errors";
import type { SiteView } from "../../schema";
export type { SiteView };


export async function addSite(vault: Vault, input: unknown): Promise<SiteView> {
  const spec = parse(SiteSpec, input, "site");
  if (spec.kind === "recovery" && !spec.path) throw new ValidationError("site", [{ property: "path", reason: "a recovery site needs the directory where machines are materialized" }]);
  if (await vault.db.selectFrom("sites").select("id").where("name", "=", spec.name).executeTakeFirst()) {
    throw new ValidationError("site", [{ property: "name", reason: `a site named '${spec.name}' already exists` }]);
  }
  await vault.db.transaction().execute(async (trx) => {
    const { id } = await trx.insertInto("sites").values({ name: spec.name, kind: spec.kind, path: spec.path ?? null, created_at: vault.clock.now() }).returning("id").executeTakeFirstOrThrow();
    if (spec.hosts.length) await trx.insertInto("hosts").values(spec.hosts.map((name) => ({ site_id: id, name }))).execute();
  });
  return getSite(vault, spec.name);
}

export async function addHost(vault: Vault, siteName: string, host: string): Promise<SiteView> {
  const name = parse(Name, host, "host");
  const site = await siteRow(vault, siteName);
  if (await vault.db.selectFrom("hosts").select("id").where("site_id", "=", site.id).where("name", "=", name).executeTakeFirst()) {
    throw new ValidationError("host", [{ property: "name", reason: `site '${siteName}' already has a host named '${name}'` }]);
  }
  await vault.db.insertInto("hosts").values({ site_id: site.id, name }).execute();
  return getSite(vault, siteName);
}

export async function siteRow(vault: Vault, name: string) {
  const row = await vault.db.selectFrom("sites").selectAll().where("name", "=", name).executeTakeFirst();
  if (!row) throw new NotFoundError("site", name);
  return row;
}

export async function getSite(vault: Vault, name: string): Promise<SiteView> {
  const row = await siteRow(vault, name);
  const hosts = await vault.db.selectFrom("hosts").select("name").where("site_id", "=", row.id).orderBy("name").execute();
  return { name: row.name, kind: row.kind as SiteKind, path: row.path, hosts: hosts.map((h) => h.name) };
}

export async function listSites(vault: Vault): Promise<SiteView[]> {
  const rows = await vault.db.selectFrom("sites").select("name").orderBy("name").execute();
  return Promise.all(rows.map((r) => getSite(vault, r.name)));
}
