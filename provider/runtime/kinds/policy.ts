import { PolicySpec } from "../../../schema";
import { fields, type KindDefinition } from "../resource";
import { same, specOf, unlessMissing, withoutNulls, type Props } from "../values";

/** A replication policy; creating `gold` also makes `gold-failback`, which goes with it. */
export const policy: KindDefinition = {
  schema: PolicySpec,
  inVault: true,
  key: "name",
  identity: fields("name"),
  observed: [],
  async create(ctx, inputs) {
    const { policy: view } = await (await ctx.engine()).addPolicy(specOf(inputs));
    return { id: view.name };
  },
  async update(ctx, id, olds, news) {
    const changed: Props = {};
    for (const [key, value] of Object.entries(specOf(news))) if (key !== "name" && !same(olds[key], value)) changed[key] = value;
    await (await ctx.engine()).updatePolicy(id, changed);
    return undefined;
  },
  async read(ctx, id) {
    const view = await unlessMissing((await ctx.engine()).getPolicy(id));
    if (!view) return undefined;
    const { failbackOf: _failbackOf, ...spec } = view;
    return withoutNulls(spec);
  },
  async remove(ctx, id) {
    await unlessMissing((await ctx.engine()).removePolicy(id));
  },
};
