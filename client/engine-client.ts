import type {
  Deleted,
  EngineApi,
  FailoverImpact,
  ItemCheckResult,
  ItemStatus,
  JobView,
  NetworkMappingSpec,
  NetworkView,
  PlanSpec,
  PointView,
  PolicyAdded,
  PolicyView,
  RpoHistory,
  SiteView,
  VaultInfo,
  VaultStatus,
} from "../schema";
import { requestJson } from "./http";

/** What the CLI and the Pulumi provider do with an engine, local or remote: declared in schema/ (engine-api.ts). */
export type { EngineApi };

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

  vaultInfo = () => this.request<VaultInfo>("GET", "/v1/vault");

  addSite = (input: unknown) => this.request<SiteView>("POST", "/v1/sites", input);
  addHost = (site: string, host: string) => this.request<SiteView>("POST", `/v1/sites/${q(site)}/hosts`, { name: host });
  updateSite = (name: string, input: unknown) => this.request<SiteView>("PATCH", `/v1/sites/${q(name)}`, input);
  removeSite = (name: string) => this.request<Deleted>("DELETE", `/v1/sites/${q(name)}`);
  listSites = () => this.request<SiteView[]>("GET", "/v1/sites");
  addPolicy = (input: unknown) => this.request<PolicyAdded>("POST", "/v1/policies", input);
  updatePolicy = (name: string, input: unknown) => this.request<PolicyView>("PATCH", `/v1/policies/${q(name)}`, input);
  getPolicy = (name: string) => this.request<PolicyView>("GET", `/v1/policies/${q(name)}`);
  removePolicy = (name: string) => this.request<Deleted>("DELETE", `/v1/policies/${q(name)}`);
  listPolicies = () => this.request<PolicyView[]>("GET", "/v1/policies");

  protect = (input: unknown) => this.run("/v1/items", input);
  checkItem = (input: unknown) => this.request<ItemCheckResult>("POST", "/v1/items/check", input);
  /** Disable protection (DELETE answers 202 with the job), followed to its end like protect. */
  unprotect = (name: string) => this.follow(this.request<JobView>("DELETE", `/v1/items/${q(name)}`));
  updateItem = (name: string, input: unknown) => this.request<ItemStatus>("PATCH", `/v1/items/${q(name)}`, input);
  moveItem = (name: string, input: unknown) => this.updateItem(name, input);
  replicateNow = (name: string, options: { appConsistent?: boolean } = {}) => this.run(`/v1/items/${q(name)}/sync`, options);
  points = (name: string) => this.request<PointView[]>("GET", `/v1/items/${q(name)}/points`);
  rpoHistory = (name: string, hours?: number) =>
    this.request<RpoHistory>("GET", `/v1/items/${q(name)}/rpo-history${hours === undefined ? "" : `?hours=${hours}`}`);
  materialize = (name: string, point: string, outDir: string) => this.run(`/v1/items/${q(name)}/materialize`, { point, outDir });
  resync = (name: string) => this.run(`/v1/items/${q(name)}/resync`);
  applyRetention = () => this.run("/v1/retention");
  verify = (input: unknown = {}) => this.run("/v1/verify", input);
  item = (name: string) => this.request<ItemStatus>("GET", `/v1/items/${q(name)}`);
  status = () => this.request<VaultStatus>("GET", "/v1/status");

  addNetwork = (input: unknown) => this.request<NetworkView>("POST", "/v1/networks", input);
  listNetworks = () => this.request<NetworkView[]>("GET", "/v1/networks");
  addNetworkMapping = (input: unknown) => this.request<NetworkMappingSpec>("POST", "/v1/network-mappings", input);
  removeNetwork = (name: string) => this.request<Deleted>("DELETE", `/v1/networks/${q(name)}`);
  removeNetworkMapping = (source: string) => this.request<Deleted>("DELETE", `/v1/network-mappings/${q(source)}`);
  listNetworkMappings = () => this.request<NetworkMappingSpec[]>("GET", "/v1/network-mappings");

  drill = (name: string, point: unknown = "latest") => this.run(`/v1/items/${q(name)}/drill`, { point });
  drillCleanup = (name: string, notes?: string) => this.run(`/v1/items/${q(name)}/drill/cleanup`, { notes });
  failover = (name: string, request: unknown) => this.run(`/v1/items/${q(name)}/failover`, request);
  failoverPreview = (name: string, request: unknown) => this.request<FailoverImpact>("POST", `/v1/items/${q(name)}/failover/preview`, request);
  changeRecoveryPoint = (name: string, point: unknown) => this.run(`/v1/items/${q(name)}/change-point`, { point });
  commit = (name: string) => this.run(`/v1/items/${q(name)}/commit`);
  cancel = async (jobId: string) => void (await this.request("POST", `/v1/jobs/${q(jobId)}/cancel`, {}));
  reprotect = (name: string) => this.run(`/v1/items/${q(name)}/reprotect`);
  failback = (name: string, request: unknown = {}) => this.run(`/v1/items/${q(name)}/failback`, request);
  completeMigration = (name: string) => this.run(`/v1/items/${q(name)}/migrate`);

  addPlan = (input: unknown) => this.request<PlanSpec>("POST", "/v1/plans", input);
  getPlan = (name: string) => this.request<PlanSpec>("GET", `/v1/plans/${q(name)}`);
  replacePlan = (name: string, input: unknown) => this.request<PlanSpec>("PUT", `/v1/plans/${q(name)}`, input);
  removePlan = (name: string) => this.request<Deleted>("DELETE", `/v1/plans/${q(name)}`);
  listPlans = () => this.request<PlanSpec[]>("GET", "/v1/plans");
  runPlan = (name: string, request: unknown) => this.run(`/v1/plans/${q(name)}/run`, request);
  planPreview = (name: string, request: unknown) => this.request<FailoverImpact>("POST", `/v1/plans/${q(name)}/run/preview`, request);
  resumeJob = (jobId: string) => this.run(`/v1/jobs/${q(jobId)}/resume`);
  jobs = (filter: { target?: string; limit?: number } = {}) =>
    this.request<JobView[]>(
      "GET",
      `/v1/jobs?${new URLSearchParams(
        Object.entries(filter)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]): [string, string] => [k, String(v)]),
      )}`,
    );
  job = (id: string) => this.request<JobView>("GET", `/v1/jobs/${q(id)}`);

  createToken = (name: string, role: "admin" | "agent" = "admin", lifetimeMs?: number) =>
    this.request<{ token: string }>("POST", "/v1/tokens", { name, role, lifetimeMs }).then((r) => r.token);
  revokeToken = async (name: string) => void (await this.request("POST", `/v1/tokens/${q(name)}/revoke`, {}));
  revokeRegistrationKey = async () => void (await this.request("POST", "/v1/registration-key/revoke", {}));
  rotateRegistrationKey = () => this.request<{ registrationKey: string }>("POST", "/v1/registration-key", {}).then((r) => r.registrationKey);
}
