import { NetworkMappingSpec, NetworkSpec } from "../../../schema";
import { fields, type KindDefinition } from "../resource";
import { specOf, unlessMissing } from "../values";

/** A recovery network with its subnets: nothing changes in place (addresses are handed out from the subnets). */
export const network: KindDefinition = {
  schema: NetworkSpec,
  inVault: true,
  key: "name",
  identity: fields("name", "site", "subnets"),
  observed: [],
  async create(ctx, inputs) {
    const view = await (await ctx.engine()).addNetwork(specOf(inputs));
    return { id: view.name };
  },
  async update() {
    throw new Error("a network changes only by replacement");
  },
  async read(ctx, id) {
    const view = (await (await ctx.engine()).listNetworks()).find((n) => n.name === id);
    return view && { name: view.name, site: view.site, subnets: view.subnets };
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removeNetwork(id));
  },
};

/** Source network → recovery network. The target changes in place (the mapping is replaced at the engine). */
export const networkMapping: KindDefinition = {
  schema: NetworkMappingSpec,
  inVault: true,
  key: "source",
  identity: fields("source"),
  observed: [],
  async create(ctx, inputs) {
    const view = await (await ctx.engine()).addNetworkMapping(specOf(inputs));
    return { id: view.source };
  },
  async update(ctx, id, _olds, news) {
    const engine = await ctx.engine();
    await unlessMissing(engine.removeNetworkMapping(id));
    await engine.addNetworkMapping(specOf(news));
    return undefined;
  },
  async read(ctx, id) {
    const view = (await (await ctx.engine()).listNetworkMappings()).find((m) => m.source === id);
    return view && { source: view.source, target: view.target };
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removeNetworkMapping(id));
  },
};
