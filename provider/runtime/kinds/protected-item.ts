import type { EngineClient } from "../../../client/engine-client";
import type { ItemStatus } from "../../../engine/items/health";
import { ActiveSiteIntent, INTENT_KEYS, ItemSpec, type FieldFailure } from "../../../schema";
import { declaredHosts, declareItemIntent } from "../declared";
import { impactInputs, impactOf, NO_IMPACT, reconcile } from "../active-site";
import { REPLACE_IMPACT, replaceImpactInputs } from "../replace-impact";
import type { Context, KindDefinition } from "../resource";
import { succeeded } from "../jobs";
import { containsUnknown, same, specOf, unlessMissing, withoutNulls, type Props } from "../values";

/** What the engine reports about the machine; outputs only, but activeSite is also the desired site (an input). */
const OBSERVED = ["health", "rpoSeconds", "protectionState", "activeSite", "lastPointAt", "failoverImpact", REPLACE_IMPACT];

/** The machine's spec as the engine takes it: no vault, plumbing, failover intent or preview notes. */
const specOfItem = (inputs: Props) => specOf(inputs, [...INTENT_KEYS, REPLACE_IMPACT]);

type DiskInput = { name?: unknown; path?: unknown; node?: unknown } | undefined;
/** Where a disk is: its path, or its block node on a machine served by QEMU. */
const locationOf = (d: DiskInput) => d?.path ?? d?.node;
const disksOf = (inputs: Props) => (Array.isArray(inputs.disks) ? (inputs.disks as DiskInput[]) : undefined);

/** Name, site and disk names: a disk's path changes in place (a move: the points stay). */
const identity = (inputs: Props): Props => ({ name: inputs.name, site: inputs.site, disks: disksOf(inputs)?.map((d) => d?.name) ?? inputs.disks });

/** Disks whose path (or block node) changed, by name, as the engine's move takes them; undefined when none did. */
function movedDisks(olds: Props, news: Props): Record<string, string> | undefined {
  const before = new Map((disksOf(olds) ?? []).map((d) => [d?.name, locationOf(d)]));
  const moved = (disksOf(news) ?? []).filter((d) => before.has(d?.name) && before.get(d?.name) !== locationOf(d));
  return moved.length ? Object.fromEntries(moved.map((d) => [String(d!.name), String(locationOf(d))])) : undefined;
}

function observed(status: ItemStatus): Props {
  return {
    health: status.health,
    rpoSeconds: status.rpoSeconds,
    protectionState: status.state,
    activeSite: status.activeSite,
    lastPointAt: status.latestPoint?.capturedAt ?? null,
    ...NO_IMPACT,
    [REPLACE_IMPACT]: undefined,
  };
}

/** Settings that change in place, through PATCH /v1/items/:item; `group` and `recovery` are removed with null. */
const SETTINGS = ["host", "qmp", "policy", "hooks", "recovery", "group", "nics", "excludedDisks", "generation", "osType"];
const REMOVABLE = new Set(["group", "recovery"]);

async function updateSettings(engine: EngineClient, id: string, olds: Props, news: Props): Promise<void> {
  const changed: Props = {};
  for (const key of SETTINGS) {
    if (same(olds[key], news[key])) continue;
    if (news[key] !== undefined) changed[key] = news[key];
    else if (REMOVABLE.has(key)) changed[key] = null;
    else throw new Error(`'${key}' of a protected item cannot be removed once set; give it a value`);
  }
  // A moved disk goes with any host change in one update: the engine checks the new paths on the new host.
  const diskPaths = movedDisks(olds, news);
  if (diskPaths) changed.diskPaths = diskPaths;
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
  key: "name",
  identity,
  // An adopted machine's disks must be the ones declared: a different path may be a different disk.
  fixedOnAdoption: (inputs) => ({ ...identity(inputs), disks: disksOf(inputs)?.map((d) => ({ name: d?.name, path: d?.path, node: d?.node })) ?? inputs.disks }),
  observed: OBSERVED,
  desired: ["activeSite"],
  runsJobs: true,
  paths: (inputs) => [
    // A running engine checks the disks itself: it knows which ones an agent reads on its own host.
    ...(Array.isArray(inputs.disks) ? (inputs.disks as Props[]) : []).map((d, i) => ({ property: `disks.${i}.path`, value: d?.path, engineChecks: true })),
    { property: "qmp", value: inputs.qmp, engineChecks: true },
    { property: "failback.alternateDir", value: (inputs.failback as Props | undefined)?.alternateDir },
  ],
  async crossCheck(engine, inputs) {
    return [...declareItemIntent(inputs), ...(await unknownHost(engine, inputs))];
  },
  async verify(engine, inputs) {
    if (containsUnknown(inputs)) return [];
    return (await engine.checkItem(specOfItem(inputs))).failures;
  },
  async annotate(engine, inputs, unreachable, replaced) {
    const failover = impactInputs(await impactOf(engine, { kind: "item", name: String(inputs.name) }, inputs, unreachable));
    return { ...failover, ...(await replaceImpactInputs(engine, replaced, unreachable)) };
  },
  async create(ctx, inputs) {
    const engine = await ctx.engine();
    const name = inputs.name as string;
    const protecting = await engine.protect(specOfItem(inputs));
    // The engine has the machine now, even if its enable-protection job failed.
    ctx.made(name);
    succeeded(protecting);
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
      ...withoutNulls({
        name: status.name,
        site: status.site,
        host: status.host,
        policy: status.policy,
        group: status.group,
        generation: status.generation,
        osType: status.osType,
        recovery: status.recovery,
      }),
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
