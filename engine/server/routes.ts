import type { Engine } from "../engine";

export interface Request {
  params: Record<string, string>;
  body: unknown;
  query: Record<string, string | undefined>;
  /** Why a path may not be used through this daemon (outside its allowed directories), or undefined. */
  confine?: (value: unknown) => string | undefined;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  url: string;
  summary: string;
  /** The component schema of the body (see openapi.ts); the engine validates it with the same zod schema. */
  body?: string;
  /** A long operation: answered 202 with its job as soon as the job starts. */
  job?: boolean;
  /** 201 for routes that create something. */
  creates?: boolean;
  handle(engine: Engine, request: Request): Promise<unknown>;
  /** The filesystem paths the body names, checked against the daemon's allowed directories first. */
  paths?(request: Request, engine: Engine): Array<[string, unknown]> | Promise<Array<[string, unknown]>>;
  /**
   * Who may call: admin tokens (the default); "agent": the agent token of the host in the path;
   * "registration": anyone, the body carries the vault's registration key.
   */
  access?: "admin" | "agent" | "registration";
  /** Bodies larger than the API's 1 MiB default (an agent's window reports carry block maps). */
  bodyLimit?: number;
}

const body = (r: Request) => (r.body ?? {}) as Record<string, unknown>;
const field = (r: Request, name: string) => body(r)[name];

/** Every engine operation, over HTTP. Names in the path, everything else in a JSON body. */
export const routes: Route[] = [
  { method: "GET", url: "/v1/vault", summary: "the vault's directory, creation time and registration key state", handle: (e) => e.vaultInfo() },
  { method: "GET", url: "/v1/status", summary: "vault, store and every protected item's health and RPO", handle: (e) => e.status() },

  { method: "GET", url: "/v1/sites", summary: "list sites", handle: (e) => e.listSites() },
  { method: "POST", url: "/v1/sites", summary: "add a site", body: "SiteSpec", creates: true, handle: (e, r) => e.addSite(r.body), paths: (r) => [["path", field(r, "path")]] },
  { method: "PATCH", url: "/v1/sites/:site", summary: "replace a site's hosts or move a recovery site's directory", body: "SiteUpdate", handle: (e, r) => e.updateSite(r.params.site, r.body), paths: (r) => [["path", field(r, "path")]] },
  { method: "DELETE", url: "/v1/sites/:site", summary: "remove a site (refused while items or networks use it)", handle: (e, r) => e.removeSite(r.params.site) },
  { method: "POST", url: "/v1/sites/:site/hosts", summary: "add a host to a site", creates: true, handle: (e, r) => e.addHost(r.params.site, field(r, "name") as string) },

  { method: "GET", url: "/v1/policies", summary: "list replication policies", handle: (e) => e.listPolicies() },
  { method: "POST", url: "/v1/policies", summary: "add a policy and its failback policy", body: "PolicySpec", creates: true, handle: (e, r) => e.addPolicy(r.body) },
  { method: "GET", url: "/v1/policies/:policy", summary: "one policy", handle: (e, r) => e.getPolicy(r.params.policy) },
  { method: "PATCH", url: "/v1/policies/:policy", summary: "change a policy", body: "PolicyUpdate", handle: (e, r) => e.updatePolicy(r.params.policy, r.body) },
  { method: "DELETE", url: "/v1/policies/:policy", summary: "remove a policy and its failback policy (refused while items use them)", handle: (e, r) => e.removePolicy(r.params.policy) },

  { method: "GET", url: "/v1/networks", summary: "list recovery networks", handle: (e) => e.listNetworks() },
  { method: "POST", url: "/v1/networks", summary: "add a recovery network", body: "NetworkSpec", creates: true, handle: (e, r) => e.addNetwork(r.body) },
  { method: "DELETE", url: "/v1/networks/:network", summary: "remove a recovery network (refused while mapped or used)", handle: (e, r) => e.removeNetwork(r.params.network) },
  { method: "GET", url: "/v1/network-mappings", summary: "list network mappings", handle: (e) => e.listNetworkMappings() },
  { method: "POST", url: "/v1/network-mappings", summary: "map a source network to a recovery network", body: "NetworkMappingSpec", creates: true, handle: (e, r) => e.addNetworkMapping(r.body) },
  { method: "DELETE", url: "/v1/network-mappings/:source", summary: "remove a network mapping", handle: (e, r) => e.removeNetworkMapping(r.params.source) },

  { method: "GET", url: "/v1/items/:item", summary: "a protected item's status", handle: (e, r) => e.item(r.params.item) },
  {
    method: "POST",
    url: "/v1/items",
    summary: "enable protection",
    body: "ItemSpec",
    job: true,
    handle: (e, r) => e.protect(r.body),
    // Disks on an agent's host are paths of that host, read by the agent: not the daemon's to confine.
    paths: async (r, e) =>
      Array.isArray(field(r, "disks")) && !(await e.hasAgent(String(field(r, "site")), String(field(r, "host"))))
        ? (field(r, "disks") as Array<{ path?: unknown }>).map((d, i): [string, unknown] => [`disks.${i}.path`, d?.path])
        : [],
  },
  { method: "POST", url: "/v1/items/check", summary: "what protecting this item would refuse now (schema, disks), writing nothing", body: "ItemSpec", handle: (e, r) => e.checkItem(r.body, r.confine) },
  { method: "PATCH", url: "/v1/items/:item", summary: "change a protected item: move it to another host (no new initial replication), its policy, hooks, recovery settings, ...", body: "ItemUpdate", handle: (e, r) => e.updateItem(r.params.item, r.body, r.confine) },
  { method: "DELETE", url: "/v1/items/:item", summary: "disable protection: removes the item, its points, replication state and drill machine", job: true, handle: (e, r) => e.unprotect(r.params.item) },
  { method: "GET", url: "/v1/items/:item/points", summary: "recovery points, oldest first", handle: (e, r) => e.points(r.params.item) },
  { method: "POST", url: "/v1/items/:item/sync", summary: "one replication cycle now", job: true, handle: (e, r) => e.replicateNow(r.params.item, { appConsistent: field(r, "appConsistent") === true }) },
  { method: "POST", url: "/v1/items/:item/resync", summary: "resync source and replica", job: true, handle: (e, r) => e.resync(r.params.item) },
  { method: "POST", url: "/v1/items/:item/materialize", summary: "write the disks at a point into a directory", job: true, handle: (e, r) => e.materialize(r.params.item, String(field(r, "point") ?? "latest"), String(field(r, "outDir") ?? "")), paths: (r) => [["outDir", field(r, "outDir") ?? ""]] },
  { method: "POST", url: "/v1/items/:item/drill", summary: "test failover", job: true, handle: (e, r) => e.drill(r.params.item, field(r, "point") ?? "latest") },
  { method: "POST", url: "/v1/items/:item/drill/cleanup", summary: "clean up a drill", job: true, handle: (e, r) => e.drillCleanup(r.params.item, field(r, "notes") as string | undefined) },
  { method: "POST", url: "/v1/items/:item/failover", summary: "planned or unplanned failover", body: "FailoverRequest", job: true, handle: (e, r) => e.failover(r.params.item, r.body ?? {}) },
  { method: "POST", url: "/v1/items/:item/failover/preview", summary: "what a failover (or failback) would do now: point, expected data loss, refusal; changes nothing", body: "FailoverPreviewRequest", handle: (e, r) => e.failoverPreview(r.params.item, r.body ?? {}) },
  { method: "POST", url: "/v1/items/:item/change-point", summary: "change the recovery point before commit", job: true, handle: (e, r) => e.changeRecoveryPoint(r.params.item, field(r, "point")) },
  { method: "POST", url: "/v1/items/:item/commit", summary: "commit a failover or failback", job: true, handle: (e, r) => e.commit(r.params.item) },
  { method: "POST", url: "/v1/items/:item/reprotect", summary: "reverse replication", job: true, handle: (e, r) => e.reprotect(r.params.item) },
  { method: "POST", url: "/v1/items/:item/failback", summary: "fail back to the primary", body: "FailbackRequest", job: true, handle: (e, r) => e.failback(r.params.item, r.body ?? {}), paths: (r) => [["alternateDir", field(r, "alternateDir")]] },
  { method: "POST", url: "/v1/items/:item/migrate", summary: "complete a migration", job: true, handle: (e, r) => e.completeMigration(r.params.item) },
  { method: "POST", url: "/v1/retention", summary: "apply retention and collect garbage now", job: true, handle: (e) => e.applyRetention() },
  { method: "POST", url: "/v1/verify", summary: "verify (scrub): read back every block the chosen points rely on and check it; damaged points are marked and refused for restores", body: "VerifyRequest", job: true, handle: (e, r) => e.verify(r.body ?? {}) },

  { method: "GET", url: "/v1/plans", summary: "list recovery plans", handle: (e) => e.listPlans() },
  { method: "POST", url: "/v1/plans", summary: "add a recovery plan", body: "PlanSpec", creates: true, handle: (e, r) => e.addPlan(r.body) },
  { method: "GET", url: "/v1/plans/:plan", summary: "one recovery plan", handle: (e, r) => e.getPlan(r.params.plan) },
  { method: "POST", url: "/v1/plans/:plan/run/preview", summary: "what running the plan would do now, group by group; changes nothing", body: "PlanRunRequest", handle: (e, r) => e.planPreview(r.params.plan, r.body ?? {}) },
  { method: "PUT", url: "/v1/plans/:plan", summary: "replace a recovery plan's groups and actions (order kept)", body: "PlanSpec", handle: (e, r) => e.replacePlan(r.params.plan, r.body) },
  { method: "DELETE", url: "/v1/plans/:plan", summary: "remove a recovery plan", handle: (e, r) => e.removePlan(r.params.plan) },
  { method: "POST", url: "/v1/plans/:plan/run", summary: "run a recovery plan", body: "PlanRunRequest", job: true, handle: (e, r) => e.runPlan(r.params.plan, r.body ?? {}) },

  { method: "POST", url: "/v1/tokens", summary: "issue a bearer token (shown once)", creates: true, handle: async (e, r) => ({ name: field(r, "name"), token: await e.createToken(String(field(r, "name") ?? ""), field(r, "role") === "agent" ? "agent" : "admin", field(r, "lifetimeMs") as number | undefined) }) },
  { method: "POST", url: "/v1/tokens/:token/revoke", summary: "revoke a token", handle: async (e, r) => (await e.revokeToken(r.params.token), { name: r.params.token, revoked: true }) },
  { method: "POST", url: "/v1/registration-key", summary: "issue a new registration key (shown once)", handle: async (e) => ({ registrationKey: await e.rotateRegistrationKey() }) },

  { method: "GET", url: "/v1/jobs", summary: "recent jobs, newest first", handle: (e, r) => e.jobs({ target: r.query.target, limit: r.query.limit ? Number(r.query.limit) : undefined }) },
  { method: "GET", url: "/v1/jobs/:job", summary: "a job with its task tree", handle: (e, r) => e.job(r.params.job) },
  { method: "POST", url: "/v1/jobs/:job/resume", summary: "carry on after a manual action", job: true, handle: (e, r) => e.resumeJob(r.params.job) },
  { method: "POST", url: "/v1/jobs/:job/cancel", summary: "cancel a failover, drill or failback before its start task", handle: async (e, r) => (await e.cancel(r.params.job), { job: r.params.job, cancelRequested: true }) },
  { method: "GET", url: "/v1/items/:item/rpo-history", summary: "RPO over time (?hours=24), derived from the points held", handle: (e, r) => e.rpoHistory(r.params.item, r.query.hours) },
];
