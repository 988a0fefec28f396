import type { Engine, JobView } from "../engine";
import { requestJson } from "./http";

/** What the CLI (and later the Pulumi provider) does with an engine, local or remote. */
export type EngineApi = Pick<
  Engine,
  | "addSite" | "addHost" | "listSites" | "addPolicy" | "updatePolicy" | "getPolicy" | "listPolicies"
  | "protect" | "replicateNow" | "points" | "materialize" | "resync" | "applyRetention" | "item" | "status"
  | "addNetwork" | "listNetworks" | "addNetworkMapping" | "listNetworkMappings"
  | "drill" | "drillCleanup" | "failover" | "changeRecoveryPoint" | "commit" | "cancel" | "reprotect" | "failback" | "completeMigration"
  | "addPlan" | "getPlan" | "listPlans" | "runPlan" | "resumeJob" | "jobs" | "job"
  | "createToken" | "revokeToken" | "rotateRegistrationKey" | "revokeRegistrationKey" | "moveItem"
  | "vaultInfo" | "updateSite" | "removeSite" | "removePolicy" | "removeNetwork" | "removeNetworkMapping"
  | "updateItem" | "unprotect" | "checkItem" | "replacePlan" | "removePlan" | "failoverPreview" | "planPreview" | "verify"
>;

const ENDED = new Set(["Succeeded", "Failed", "Cancelled", "Suspended"]);
const q = encodeURIComponent;

/**
 * The engine over its HTTP API. Long operations are started (202 + job) and followed until their job
 * ends, so callers see the same finished job a local engine returns; errors come back as the same
 * ValidationError / EngineError, with the field and reason the daemon gave.
 */
export class EngineClient implements EngineApi {
  constructor(
    private readonly endpoint: string,
    private readonly token: string,
    private readonly options: { pollMs?: number; onJob?: (job: JobView) => void } = {},
  ) {}

  private request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return requestJson<T>(this.endpoint, this.token, method, path, body);
  }

  /** Start a long operation and follow its job to the end (or until it waits for a person). */
  private run(path: string, body: unknown = {}): Promise<JobView> {
    return this.follow(this.request<JobView>("POST", path, body));
  }

  private async follow(started: Promise<JobView>): Promise<JobView> {
    let job = await started;
    this.options.onJob?.(job);
    while (!ENDED.has(job.state)) {
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 200));
      job = await this.request<JobView>("GET", `/v1/jobs/${q(job.id)}`);
      this.options.onJob?.(job);
    }
    return job;
  }

  vaultInfo = () => this.request<Awaited<ReturnType<Engine["vaultInfo"]>>>("GET", "/v1/vault");

  addSite = (input: unknown) => this.request<Awaited<ReturnType<Engine["addSite"]>>>("POST", "/v1/sites", input);
  addHost = (site: string, host: string) => this.request<Awaited<ReturnType<Engine["addHost"]>>>("POST", `/v1/sites/${q(site)}/hosts`, { name: host });
  updateSite = (name: string, input: unknown) => this.request<Awaited<ReturnType<Engine["updateSite"]>>>("PATCH", `/v1/sites/${q(name)}`, input);
  removeSite = (name: string) => this.request<{ deleted: string }>("DELETE", `/v1/sites/${q(name)}`);
  listSites = () => this.request<Awaited<ReturnType<Engine["listSites"]>>>("GET", "/v1/sites");
  addPolicy = (input: unknown) => this.request<Awaited<ReturnType<Engine["addPolicy"]>>>("POST", "/v1/policies", input);
  updatePolicy = (name: string, input: unknown) => this.request<Awaited<ReturnType<Engine["updatePolicy"]>>>("PATCH", `/v1/policies/${q(name)}`, input);
  getPolicy = (name: string) => this.request<Awaited<ReturnType<Engine["getPolicy"]>>>("GET", `/v1/policies/${q(name)}`);
  removePolicy = (name: string) => this.request<{ deleted: string }>("DELETE", `/v1/policies/${q(name)}`);
  listPolicies = () => this.request<Awaited<ReturnType<Engine["listPolicies"]>>>("GET", "/v1/policies");

  protect = (input: unknown) => this.run("/v1/items", input);
  checkItem = (input: unknown) => this.request<Awaited<ReturnType<Engine["checkItem"]>>>("POST", "/v1/items/check", input);
  /** Disable protection (DELETE answers 202 with the job), followed to its end like protect. */
  unprotect = (name: string) => this.follow(this.request<JobView>("DELETE", `/v1/items/${q(name)}`));
  updateItem = (name: string, input: unknown) => this.request<Awaited<ReturnType<Engine["updateItem"]>>>("PATCH", `/v1/items/${q(name)}`, input);
  moveItem = (name: string, input: unknown) => this.updateItem(name, input);
  replicateNow = (name: string, options: { appConsistent?: boolean } = {}) => this.run(`/v1/items/${q(name)}/sync`, options);
  points = (name: string) => this.request<Awaited<ReturnType<Engine["points"]>>>("GET", `/v1/items/${q(name)}/points`);
  materialize = (name: string, point: string, outDir: string) => this.run(`/v1/items/${q(name)}/materialize`, { point, outDir });
  resync = (name: string) => this.run(`/v1/items/${q(name)}/resync`);
  applyRetention = () => this.run("/v1/retention");
  verify = (input: unknown = {}) => this.run("/v1/verify", input);
  item = (name: string) => this.request<Awaited<ReturnType<Engine["item"]>>>("GET", `/v1/items/${q(name)}`);
  status = () => this.request<Awaited<ReturnType<Engine["status"]>>>("GET", "/v1/status");

  addNetwork = (input: unknown) => this.request<Awaited<ReturnType<Engine["addNetwork"]>>>("POST", "/v1/networks", input);
  listNetworks = () => this.request<Awaited<ReturnType<Engine["listNetworks"]>>>("GET", "/v1/networks");
  addNetworkMapping = (input: unknown) => this.request<Awaited<ReturnType<Engine["addNetworkMapping"]>>>("POST", "/v1/network-mappings", input);
  removeNetwork = (name: string) => this.request<{ deleted: string }>("DELETE", `/v1/networks/${q(name)}`);
  removeNetworkMapping = (source: string) => this.request<{ deleted: string }>("DELETE", `/v1/network-mappings/${q(source)}`);
  listNetworkMappings = () => this.request<Awaited<ReturnType<Engine["listNetworkMappings"]>>>("GET", "/v1/network-mappings");

  drill = (name: string, point: unknown = "latest") => this.run(`/v1/items/${q(name)}/drill`, { point });
  drillCleanup = (name: string, notes?: string) => this.run(`/v1/items/${q(name)}/drill/cleanup`, { notes });
  failover = (name: string, request: unknown) => this.run(`/v1/items/${q(name)}/failover`, request);
  failoverPreview = (name: string, request: unknown) => this.request<Awaited<ReturnType<Engine["failoverPreview"]>>>("POST", `/v1/items/${q(name)}/failover/preview`, request);
  changeRecoveryPoint = (name: string, point: unknown) => this.run(`/v1/items/${q(name)}/change-point`, { point });
  commit = (name: string) => this.run(`/v1/items/${q(name)}/commit`);
  cancel = async (jobId: string) => void (await this.request("POST", `/v1/jobs/${q(jobId)}/cancel`, {}));
  reprotect = (name: string) => this.run(`/v1/items/${q(name)}/reprotect`);
  failback = (name: string, request: unknown = {}) => this.run(`/v1/items/${q(name)}/failback`, request);
  completeMigration = (name: string) => this.run(`/v1/items/${q(name)}/migrate`);

  addPlan = (input: unknown) => this.request<Awaited<ReturnType<Engine["addPlan"]>>>("POST", "/v1/plans", input);
  getPlan = (name: string) => this.request<Awaited<ReturnType<Engine["getPlan"]>>>("GET", `/v1/plans/${q(name)}`);
  replacePlan = (name: string, input: unknown) => this.request<Awaited<ReturnType<Engine["replacePlan"]>>>("PUT", `/v1/plans/${q(name)}`, input);
  removePlan = (name: string) => this.request<{ deleted: string }>("DELETE", `/v1/plans/${q(name)}`);
  listPlans = () => this.request<Awaited<ReturnType<Engine["listPlans"]>>>("GET", "/v1/plans");
  runPlan = (name: string, request: unknown) => this.run(`/v1/plans/${q(name)}/run`, request);
  planPreview = (name: string, request: unknown) => this.request<Awaited<ReturnType<Engine["planPreview"]>>>("POST", `/v1/plans/${q(name)}/run/preview`, request);
  resumeJob = (jobId: string) => this.run(`/v1/jobs/${q(jobId)}/resume`);
  jobs = (filter: { target?: string; limit?: number } = {}) =>
    this.request<JobView[]>("GET", `/v1/jobs?${new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]))}`);
  job = (id: string) => this.request<JobView>("GET", `/v1/jobs/${q(id)}`);

  createToken = (name: string, role: "admin" | "agent" = "admin", lifetimeMs?: number) =>
    this.request<{ token: string }>("POST", "/v1/tokens", { name, role, lifetimeMs }).then((r) => r.token);
  revokeToken = async (name: string) => void (await this.request("POST", `/v1/tokens/${q(name)}/revoke`, {}));
  revokeRegistrationKey = async () => void (await this.request("POST", "/v1/registration-key/revoke", {}));
  rotateRegistrationKey = () => this.request<{ registrationKey: string }>("POST", "/v1/registration-key", {}).then((r) => r.registrationKey);
}
