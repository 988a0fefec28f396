import type { EngineClient } from "../../../client/engine-client";
import type { ItemStatus } from "../../../engine/replication/health";
import { ActiveSiteIntent, INTENT_KEYS, ItemSpec, type FieldFailure } from "../../../schema";
import { declaredHosts, declareItemIntent } from "../declared";
import { impactInputs, impactOf, NO_IMPACT, reconcile } from "../active-site";
import type { Context, KindDefinition } from "../resource";
import { succeeded } from "../jobs";
import { containsUnknown, same, specOf, unlessMissing, withoutNulls, type Props } from "../values";

/** What the engine reports about the machine; outputs only, but activeSite is also the desired site (an input). */
const OBSERVED = ["health", "rpoSeconds", "protectionState", "activeSite", "lastPointAt", "failoverImpact"];

/** The machine's spec as the engine takes it: no vault, plumbing or failover intent. */
const specOfItem = (inputs: Props) => specOf(inputs, [...INTENT_KEYS]);

function observed(status: ItemStatus): Props {
  return { health: status.health, rpoSeconds: status.rpoSeconds, protectionState: status.state, activeSite: status.activeSite, lastPointAt: status.latestPoint?.capturedAt ?? null, ...NO_IMPACT };
}

/** Settings that change in place, through PATCH /v1/items/:item; `group` and `recovery` are removed with null. */
const SETTINGS = ["host", "policy", "hooks", "recovery", "group", "nics", "excludedDisks", "generation", "osType"];
const REMOVABLE = new Set(["group", "recovery"]);

async function updateSettings(engine: EngineClient, id: string, olds: Props, news: Props): Promise<void> {
  const changed: Props = {};
  for (const key of SETTINGS) {
    if (same(olds[key], news[key])) continue;
    if (news[key] !== undefined) changed[key] = news[key];
    else if (REMOVABLE.has(key)) changed[key] = null;
    else throw new Error(`'${key}' of a protected item cannot be removed once set; give it a value`);
  }
  if (Object.keys(changed).length) await engine.updateItem(id, changed);
}

/**
 * A host the item's site does not have: the hosts the program declares for the site, and those the
 * engine knows (an agent adds its own host when it registers). Unknown when neither knows the site.
 */
async function unknownHost(engine: EngineClient | undefined, inputs: Props): Promise<FieldFailure[]> {
  const { vault, site, host } = inputs;
  if (typeof host !== "string" || typeof site !== "string" || containsUnknown([host, site])) return [];
  const declared = declaredHosts(vault, site);
  const known = engine ? (await engine.listSites().catch(() => [])).find((s) => s.name === site)?.hosts : undefined;
  if (!declared && !known) return [];
  const hosts = [...new Set([...(declared ?? []), ...(known ?? [])])];
  if (hosts.includes(host)) return [];
  return [{ property: "host", reason: `site '${site}' has no host named '${host}' (its hosts: ${hosts.join(", ") || "none"}); add it to the Site's hosts` }];
}

/** Declarative failover: move the machine to its desired site, from wherever the engine says it is. */
const moveToDesiredSite = (engine: EngineClient, id: string, _olds: Props, news: Props) => reconcile(engine, { kind: "item", name: id }, news);

/** Updates run one group of fields after another, each with its own engine calls: settings, then the site. */
const UPDATES: Array<(engine: EngineClient, id: string, olds: Props, news: Props) => Promise<void>> = [updateSettings, moveToDesiredSite];

/** A protected machine: create waits for enable-protection (initial replication) to finish. */
export const protectedItem: KindDefinition = {
  schema: ItemSpec.safeExtend(ActiveSiteIntent),
  inVault: true,
  identity: (inputs) => ({
    name: inputs.name,
    site: inputs.site,
    disks: Array.isArray(inputs.disks) ? inputs.disks.map((d: Props) => ({ name: d?.name, path: d?.path })) : inputs.disks,
  }),
  observed: OBSERVED,
  desired: ["activeSite"],
  runsJobs: true,
  paths: (inputs) => [
    // A running engine checks the disks itself: it knows which ones an agent reads on its own host.
    ...(Array.isArray(inputs.disks) ? (inputs.disks as Props[]) : []).map((d, i) => ({ property: `disks.${i}.path`, value: d?.path, engineChecks: true })),
    { property: "failback.alternateDir", value: (inputs.failback as Props | undefined)?.alternateDir },
  ],
  async crossCheck(engine, inputs) {
    return [...declareItemIntent(inputs), ...(await unknownHost(engine, inputs))];
  },
  async verify(engine, inputs) {
    if (containsUnknown(inputs)) return [];
    return (await engine.checkItem(specOfItem(inputs))).failures;
  },
  async annotate(engine, inputs, unreachable) {
    return impactInputs(await impactOf(engine, { kind: "item", name: String(inputs.name) }, inputs, unreachable));
  },
  async create(ctx, inputs) {
    const engine = await ctx.engine();
    succeeded(await engine.protect(specOfItem(inputs)));
    const name = inputs.name as string;
    await moveToDesiredSite(engine, name, {}, inputs);
    return { id: name, observed: observed(await engine.item(name)) };
  },
  async update(ctx: Context, id, olds, news) {
    const engine = await ctx.engine();
    for (const apply of UPDATES) await apply(engine, id, olds, news);
    return observed(await engine.item(id));
  },
  async read(ctx, id) {
    const status = await unlessMissing((await ctx.engine()).item(id));
    if (!status) return undefined;
    return {
      ...withoutNulls({ name: status.name, site: status.site, host: status.host, policy: status.policy, group: status.group, generation: status.generation, osType: status.osType, recovery: status.recovery }),
      nics: status.nics,
      // The declared disks, also while the machine replicates back from the recovery site.
      disks: status.disks.map((d) => ({ name: d.name, path: d.primaryPath ?? d.path, os: d.os })),
      excludedDisks: status.disks.filter((d) => d.excluded).map((d) => d.name),
      ...observed(status),
    };
  },
  async remove(ctx, id) {
    const job = await unlessMissing((await ctx.engine()).unprotect(id));
    if (job) succeeded(job);
  },
};
