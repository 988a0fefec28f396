import type { z } from "zod";
import type * as schema from "../../schema";
import type { ServedEngine } from "./served-engine";

/** The zod schemas exported by schema/: what a route's body may be (each an OpenAPI component of that name). */
export type BodyName = { [K in keyof typeof schema]: (typeof schema)[K] extends z.ZodType ? K : never }[keyof typeof schema];
/** The zod schemas exported by schema/ that a route may answer with (schema/responses.ts, or a spec the engine echoes). */
export type ResponseName = BodyName;
/** A body as its schema parsed it (defaults filled in). */
export type Body<N extends BodyName> = z.output<(typeof schema)[N]>;

export interface Request<B = undefined> {
  params: Record<string, string>;
  /** Already validated by the route's body schema. */
  body: B;
  query: Record<string, string | undefined>;
  /** Why a path may not be used through this daemon (outside its allowed directories), or undefined. */
  confine: (value: unknown) => string | undefined;
}

interface RouteBase {
  url: string;
  summary: string;
  /** The schema of a successful answer (JobView for a long operation: its job, started). */
  response: ResponseName;
  /** A long operation: answered 202 with its job as soon as the job starts. */
  job?: boolean;
  /** 201 for routes that create something. */
  creates?: boolean;
  /**
   * Who may call: admin tokens (the default); "agent": the agent token of the host in the path;
   * "registration": anyone, the body carries the vault's registration key.
   */
  access?: "admin" | "agent" | "registration";
  /** Bodies larger than the API's 1 MiB default (an agent's window reports carry block maps). */
  bodyLimit?: number;
}

/** Reads and removals: no body. */
interface BodilessRoute extends RouteBase {
  method: "GET" | "DELETE";
  body?: undefined;
  handle(engine: ServedEngine, request: Request): Promise<unknown>;
}

/**
 * Everything else takes a body, validated by the schema `body` names before `paths` or `handle` run
 * (an absent body is an empty object), so both see the parsed, typed value.
 */
interface BodyRoute<N extends BodyName> extends RouteBase {
  method: "POST" | "PUT" | "PATCH";
  body: N;
  handle(engine: ServedEngine, request: Request<Body<N>>): Promise<unknown>;
  /** The filesystem paths in the body the daemon will use, checked against its allowed directories first. */
  paths?(request: Request<Body<N>>, engine: ServedEngine): Array<[string, string | undefined]> | Promise<Array<[string, string | undefined]>>;
}

/** One route; its `body` (a schema name) types what its handler receives. */
export type Route = BodilessRoute | { [N in BodyName]: BodyRoute<N> }[BodyName];

/** Any route as the server runs it: the handler takes what the route's own schema parsed. */
export interface ServedRoute extends RouteBase {
  method: Route["method"];
  body?: BodyName;
  handle(engine: ServedEngine, request: Request<unknown>): Promise<unknown>;
  paths?(request: Request<unknown>, engine: ServedEngine): Array<[string, string | undefined]> | Promise<Array<[string, string | undefined]>>;
}

/** Every engine operation, over HTTP. Names in the path, everything else in a JSON body. */
export const routes: Route[] = [
  {
    method: "GET",
    url: "/v1/vault",
    summary: "the vault's directory, creation time and registration key state",
    response: "VaultInfo",
    handle: (e) => e.vaultInfo(),
  },
  { method: "GET", url: "/v1/status", summary: "vault, store and every protected item's health and RPO", response: "VaultStatus", handle: (e) => e.status() },

  { method: "GET", url: "/v1/sites", summary: "list sites", response: "SiteList", handle: (e) => e.listSites() },
  {
    method: "POST",
    url: "/v1/sites",
    summary: "add a site",
    body: "SiteSpec",
    creates: true,
    response: "SiteView",
    handle: (e, r) => e.addSite(r.body),
    paths: (r) => [["path", r.body.path]],
  },
  {
    method: "PATCH",
    url: "/v1/sites/:site",
    summary: "replace a site's hosts or move a recovery site's directory",
    body: "SiteUpdate",
    response: "SiteView",
    handle: (e, r) => e.updateSite(r.params.site, r.body),
    paths: (r) => [["path", r.body.path]],
  },
  {
    method: "DELETE",
    url: "/v1/sites/:site",
    summary: "remove a site (refused while items or networks use it)",
    response: "Deleted",
    handle: (e, r) => e.removeSite(r.params.site),
  },
  {
    method: "POST",
    url: "/v1/sites/:site/hosts",
    summary: "add a host to a site",
    body: "HostSpec",
    creates: true,
    response: "SiteView",
    handle: (e, r) => e.addHost(r.params.site, r.body.name),
  },

  { method: "GET", url: "/v1/policies", summary: "list replication policies", response: "PolicyList", handle: (e) => e.listPolicies() },
  {
    method: "POST",
    url: "/v1/policies",
    summary: "add a policy and its failback policy",
    body: "PolicySpec",
    creates: true,
    response: "PolicyAdded",
    handle: (e, r) => e.addPolicy(r.body),
  },
  { method: "GET", url: "/v1/policies/:policy", summary: "one policy", response: "PolicyView", handle: (e, r) => e.getPolicy(r.params.policy) },
  {
    method: "PATCH",
    url: "/v1/policies/:policy",
    summary: "change a policy",
    body: "PolicyUpdate",
    response: "PolicyView",
    handle: (e, r) => e.updatePolicy(r.params.policy, r.body),
  },
  {
    method: "DELETE",
    url: "/v1/policies/:policy",
    summary: "remove a policy and its failback policy (refused while items use them)",
    response: "Deleted",
    handle: (e, r) => e.removePolicy(r.params.policy),
  },

  { method: "GET", url: "/v1/networks", summary: "list recovery networks", response: "NetworkList", handle: (e) => e.listNetworks() },
  {
    method: "POST",
    url: "/v1/networks",
    summary: "add a recovery network",
    body: "NetworkSpec",
    creates: true,
    response: "NetworkView",
    handle: (e, r) => e.addNetwork(r.body),
  },
  {
    method: "DELETE",
    url: "/v1/networks/:network",
    summary: "remove a recovery network (refused while mapped or used)",
    response: "Deleted",
    handle: (e, r) => e.removeNetwork(r.params.network),
  },
  { method: "GET", url: "/v1/network-mappings", summary: "list network mappings", response: "NetworkMappingList", handle: (e) => e.listNetworkMappings() },
  {
    method: "POST",
    url: "/v1/network-mappings",
    summary: "map a source network to a recovery network",
    body: "NetworkMappingSpec",
    creates: true,
    response: "NetworkMappingSpec",
    handle: (e, r) => e.addNetworkMapping(r.body),
  },
  {
    method: "DELETE",
    url: "/v1/network-mappings/:source",
    summary: "remove a network mapping",
    response: "Deleted",
    handle: (e, r) => e.removeNetworkMapping(r.params.source),
  },

  { method: "GET", url: "/v1/items/:item", summary: "a protected item's status", response: "ItemStatus", handle: (e, r) => e.item(r.params.item) },
  {
    method: "POST",
    url: "/v1/items",
    summary: "enable protection",
    body: "ItemSpec",
    job: true,
    response: "JobView",
    handle: (e, r) => e.protect(r.body),
    // Disks on an agent's host are paths of that host, read by the agent: not the daemon's to confine.
    paths: async (r, e) => ((await e.hasAgent(r.body.site, r.body.host)) ? [] : confinedPaths(r.body)),
  },
  {
    method: "POST",
    url: "/v1/items/check",
    summary: "what protecting this item would refuse now (schema, disks), writing nothing",
    body: "ItemCheckRequest",
    response: "ItemCheckResult",
    handle: (e, r) => e.checkItem(r.body, r.confine),
  },
  {
    method: "PATCH",
    url: "/v1/items/:item",
    summary: "change a protected item: move it to another host (no new initial replication), its policy, hooks, recovery settings, ...",
    body: "ItemUpdate",
    response: "ItemStatus",
    handle: (e, r) => e.updateItem(r.params.item, r.body, r.confine),
  },
  {
    method: "DELETE",
    url: "/v1/items/:item",
    summary: "disable protection: removes the item, its points, replication state and drill machine",
    job: true,
    response: "JobView",
    handle: (e, r) => e.unprotect(r.params.item),
  },
  { method: "GET", url: "/v1/items/:item/points", summary: "recovery points, oldest first", response: "PointList", handle: (e, r) => e.points(r.params.item) },
  {
    method: "POST",
    url: "/v1/items/:item/sync",
    summary: "one replication cycle now",
    body: "SyncRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.replicateNow(r.params.item, { appConsistent: r.body.appConsistent }),
  },
  {
    method: "POST",
    url: "/v1/items/:item/resync",
    summary: "resync source and replica",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e, r) => e.resync(r.params.item),
  },
  {
    method: "POST",
    url: "/v1/items/:item/materialize",
    summary: "write the disks at a point into a directory",
    body: "MaterializeRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.materialize(r.params.item, r.body.point, r.body.outDir),
    paths: (r) => [["outDir", r.body.outDir]],
  },
  {
    method: "POST",
    url: "/v1/items/:item/drill",
    summary: "test failover",
    body: "DrillRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.drill(r.params.item, r.body.point),
  },
  {
    method: "POST",
    url: "/v1/items/:item/drill/cleanup",
    summary: "clean up a drill",
    body: "DrillCleanupRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.drillCleanup(r.params.item, r.body.notes),
  },
  {
    method: "POST",
    url: "/v1/items/:item/failover",
    summary: "planned or unplanned failover",
    body: "FailoverRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.failover(r.params.item, r.body),
  },
  {
    method: "POST",
    url: "/v1/items/:item/failover/preview",
    summary: "what a failover (or failback) would do now: point, expected data loss, refusal; changes nothing",
    body: "FailoverPreviewRequest",
    response: "FailoverImpact",
    handle: (e, r) => e.failoverPreview(r.params.item, r.body),
  },
  {
    method: "POST",
    url: "/v1/items/:item/change-point",
    summary: "change the recovery point before commit",
    body: "ChangePointRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.changeRecoveryPoint(r.params.item, r.body.point),
  },
  {
    method: "POST",
    url: "/v1/items/:item/commit",
    summary: "commit a failover or failback",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e, r) => e.commit(r.params.item),
  },
  {
    method: "POST",
    url: "/v1/items/:item/reprotect",
    summary: "reverse replication",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e, r) => e.reprotect(r.params.item),
  },
  {
    method: "POST",
    url: "/v1/items/:item/failback",
    summary: "fail back to the primary",
    body: "FailbackRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.failback(r.params.item, r.body),
    paths: (r) => [["alternateDir", r.body.alternateDir]],
  },
  {
    method: "POST",
    url: "/v1/items/:item/migrate",
    summary: "complete a migration",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e, r) => e.completeMigration(r.params.item),
  },
  {
    method: "POST",
    url: "/v1/retention",
    summary: "apply retention and collect garbage now",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e) => e.applyRetention(),
  },
  {
    method: "POST",
    url: "/v1/verify",
    summary: "verify (scrub): read back every block the chosen points rely on and check it; damaged points are marked and refused for restores",
    body: "VerifyRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.verify(r.body),
  },

  { method: "GET", url: "/v1/plans", summary: "list recovery plans", response: "PlanList", handle: (e) => e.listPlans() },
  {
    method: "POST",
    url: "/v1/plans",
    summary: "add a recovery plan",
    body: "PlanSpec",
    creates: true,
    response: "PlanSpec",
    handle: (e, r) => e.addPlan(r.body),
  },
  { method: "GET", url: "/v1/plans/:plan", summary: "one recovery plan", response: "PlanSpec", handle: (e, r) => e.getPlan(r.params.plan) },
  {
    method: "POST",
    url: "/v1/plans/:plan/run/preview",
    summary: "what running the plan would do now, group by group; changes nothing",
    body: "PlanRunRequest",
    response: "FailoverImpact",
    handle: (e, r) => e.planPreview(r.params.plan, r.body),
  },
  {
    method: "PUT",
    url: "/v1/plans/:plan",
    summary: "replace a recovery plan's groups and actions (order kept)",
    body: "PlanSpec",
    response: "PlanSpec",
    handle: (e, r) => e.replacePlan(r.params.plan, r.body),
  },
  { method: "DELETE", url: "/v1/plans/:plan", summary: "remove a recovery plan", response: "Deleted", handle: (e, r) => e.removePlan(r.params.plan) },
  {
    method: "POST",
    url: "/v1/plans/:plan/run",
    summary: "run a recovery plan",
    body: "PlanRunRequest",
    job: true,
    response: "JobView",
    handle: (e, r) => e.runPlan(r.params.plan, r.body),
  },

  {
    method: "POST",
    url: "/v1/tokens",
    summary: "issue a bearer token (shown once)",
    body: "TokenRequest",
    creates: true,
    response: "TokenIssued",
    handle: async (e, r) => ({ name: r.body.name, token: await e.createToken(r.body.name, r.body.role, r.body.lifetimeMs) }),
  },
  {
    method: "POST",
    url: "/v1/tokens/:token/revoke",
    summary: "revoke a token",
    body: "NoBody",
    response: "TokenRevoked",
    handle: async (e, r) => {
      await e.revokeToken(r.params.token);
      return { name: r.params.token, revoked: true };
    },
  },
  {
    method: "POST",
    url: "/v1/registration-key",
    summary: "issue a new registration key (shown once)",
    body: "NoBody",
    response: "RegistrationKeyIssued",
    handle: async (e) => ({ registrationKey: await e.rotateRegistrationKey() }),
  },

  {
    method: "GET",
    url: "/v1/jobs",
    summary: "recent jobs, newest first",
    response: "JobList",
    handle: (e, r) => e.jobs({ target: r.query.target, limit: r.query.limit ? Number(r.query.limit) : undefined }),
  },
  { method: "GET", url: "/v1/jobs/:job", summary: "a job with its task tree", response: "JobView", handle: (e, r) => e.job(r.params.job) },
  {
    method: "POST",
    url: "/v1/jobs/:job/resume",
    summary: "carry on after a manual action",
    body: "NoBody",
    job: true,
    response: "JobView",
    handle: (e, r) => e.resumeJob(r.params.job),
  },
  {
    method: "POST",
    url: "/v1/jobs/:job/cancel",
    summary: "cancel a failover, drill or failback before its start task",
    body: "NoBody",
    response: "CancelRequested",
    handle: async (e, r) => {
      await e.cancel(r.params.job);
      return { job: r.params.job, cancelRequested: true };
    },
  },
  {
    method: "GET",
    url: "/v1/items/:item/rpo-history",
    summary: "RPO over time (?hours=24), derived from the points held",
    response: "RpoHistory",
    handle: (e, r) => e.rpoHistory(r.params.item, r.query.hours),
  },
];

/** The paths of a protected item the daemon itself reads: its disk files, or the QMP socket of the QEMU serving them. */
function confinedPaths(item: z.infer<typeof schema.ItemSpec>): Array<[string, string]> {
  if (item.qmp !== undefined) return [["qmp", item.qmp]];
  return item.disks.flatMap((d, i): Array<[string, string]> => (d.path === undefined ? [] : [[`disks.${i}.path`, d.path]]));
}
