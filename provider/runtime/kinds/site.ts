import { SiteSpec } from "../../../schema";
import { fields, type KindDefinition } from "../resource";
import { specOf, unlessMissing, withoutNulls } from "../values";
import { declareSite } from "../declared";

/** A source site (hyperv, vmm, physical) with its hosts, or a recovery site with its directory. Hosts change in place. */
export const site: KindDefinition = {
  schema: SiteSpec,
  inVault: true,
  key: "name",
  identity: fields("name", "kind", "path"),
  observed: [],
  paths: (inputs) => [{ property: "path", value: inputs.path }],
  // Its hosts, for the check of machines declared after it (declared.ts).
  async crossCheck(_engine, inputs) {
    declareSite(inputs);
    return [];
  },
  async create(ctx, inputs) {
    const view = await (await ctx.engine()).addSite(specOf(inputs));
    return { id: view.name };
  },
  async update(ctx, id, _olds, news) {
    await (await ctx.engine()).updateSite(id, { hosts: news.hosts });
    return undefined;
  },
  async read(ctx, id) {
    const sites = await (await ctx.engine()).listSites();
    const view = sites.find((s) => s.name === id);
    return view && withoutNulls({ name: view.name, kind: view.kind, path: view.path, hosts: view.hosts });
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removeSite(id));
  },
};
