import type { z } from "zod";
import type { SiteSpecInput, SiteUpdate } from "./site";
import type { PolicySpecInput, PolicyUpdate } from "./policy";
import type { ItemSpecInput } from "./item";
import type { ItemUpdateInput } from "./item-update";
import type { AgentFailureReport, AgentHeartbeat, AgentRegistration, AgentWindowReport, BlockLookup, ItemMove } from "./agent";
import type { FailbackRequest, FailoverRequest, NetworkMappingSpec, NetworkSpec, PointOption } from "./recovery";
import type { PlanRunRequest, PlanSpec, PlanSpecInput } from "./plan";
import type { FailoverImpact, FailoverPreviewRequest, ItemCheckResult } from "./impact";
import type { ItemCheckRequest, SyncRequest } from "./requests";
import type { VerifyRequest } from "./verify";
import type {
  AgentDataKey,
  AgentIdentity,
  Deleted,
  DiskStateView,
  HeartbeatAnswer,
  IndexEntry,
  ItemStatus,
  JobView,
  NetworkView,
  PointView,
  PolicyAdded,
  PolicyView,
  RpoHistory,
  SiteView,
  VaultInfo,
  VaultStatus,
} from "./responses";

type In<S extends z.ZodType> = z.input<S>;

/**
 * What a caller (the CLI, the Pulumi provider, a test) can do with an engine, local (`Engine`) or over
 * HTTP (`EngineClient`): both implement this. Arguments are the inputs of the API's body schemas, results
 * the response schemas (schema/responses.ts), so all sides share one definition. It lives in schema/, the
 * bottom of the graph, because the engine implements it and must not import the client.
 *
 * Contract of every method: bad input is a ValidationError naming each property (code InvalidInput) and
 * changes nothing; a named object that does not exist is NotFound; a state that refuses the operation is
 * Conflict (or a more precise code of schema/errors.ts). A method returning a JobView returns it ended
 * (Succeeded, Failed, Cancelled) or Suspended (waiting for a person or an agent); a failure inside the
 * job is recorded in it rather than thrown.
 */
export interface EngineApi {
  /** The vault's directory, identity and registration key state. */
  vaultInfo(): Promise<VaultInfo>;
  /** Vault, store and every protected item's health and RPO. */
  status(): Promise<VaultStatus>;

  // Sites and policies
  addSite(input: SiteSpecInput): Promise<SiteView>;
  /** Replace a site's hosts and/or a recovery site's directory. */
  updateSite(name: string, input: In<typeof SiteUpdate>): Promise<SiteView>;
  /** Refused (SiteInUse) while items or networks use it. */
  removeSite(name: string): Promise<Deleted>;
  addHost(site: string, host: string): Promise<SiteView>;
  listSites(): Promise<SiteView[]>;
  /** A policy and its failback policy (`<name>-failback`). */
  addPolicy(input: PolicySpecInput): Promise<PolicyAdded>;
  /** Machines using the policy follow at once. */
  updatePolicy(name: string, input: In<typeof PolicyUpdate>): Promise<PolicyView>;
  getPolicy(name: string): Promise<PolicyView>;
  /** Removes its failback policy too; refused (PolicyInUse) while items use either. */
  removePolicy(name: string): Promise<Deleted>;
  listPolicies(): Promise<PolicyView[]>;

  // Protection and replication
  /** Enable protection (a job: initial replication included). */
  protect(input: ItemSpecInput): Promise<JobView>;
  /** What protecting this item would refuse now (schema and disks; not references), writing nothing. */
  checkItem(input: ItemCheckRequest): Promise<ItemCheckResult>;
  /** Change a protected item in place (host, policy, hooks, recovery settings, group, NICs, disk paths). */
  updateItem(name: string, input: ItemUpdateInput): Promise<ItemStatus>;
  /** A move to another host of its site: an update of the host (and disk paths); no new initial replication. */
  moveItem(name: string, input: In<typeof ItemMove>): Promise<ItemStatus>;
  /** Disable protection: the item, its points, replication state and drill machine go. */
  unprotect(name: string): Promise<JobView>;
  /** One replication cycle now (its whole replication group). */
  replicateNow(name: string, options?: In<typeof SyncRequest>): Promise<JobView>;
  resync(name: string): Promise<JobView>;
  /** Recovery points, oldest first. */
  points(name: string): Promise<PointView[]>;
  /** RPO over the last `hours` (default 24), derived from the points held. */
  rpoHistory(name: string, hours?: number): Promise<RpoHistory>;
  /** Write the disks at a point ("latest" or an id) into outDir, one file per disk. */
  materialize(name: string, point: string, outDir: string): Promise<JobView>;
  applyRetention(): Promise<JobView>;
  /** Scrub: read back every block the chosen points rely on; damaged points are marked and refused for restores. */
  verify(input?: In<typeof VerifyRequest>): Promise<JobView>;
  item(name: string): Promise<ItemStatus>;

  // Recovery networks
  addNetwork(input: In<typeof NetworkSpec>): Promise<NetworkView>;
  /** Refused (NetworkInUse) while mapped or used. */
  removeNetwork(name: string): Promise<Deleted>;
  listNetworks(): Promise<NetworkView[]>;
  addNetworkMapping(input: In<typeof NetworkMappingSpec>): Promise<NetworkMappingSpec>;
  removeNetworkMapping(source: string): Promise<Deleted>;
  listNetworkMappings(): Promise<NetworkMappingSpec[]>;

  // Failover
  /** Test failover to the recovery site's isolated test network; replication keeps running. */
  drill(name: string, point?: In<typeof PointOption>): Promise<JobView>;
  drillCleanup(name: string, notes?: string): Promise<JobView>;
  failover(name: string, request: In<typeof FailoverRequest>): Promise<JobView>;
  /** What a failover (or failback) would do now: point, expected data loss, refusal. Changes nothing. */
  failoverPreview(name: string, request: In<typeof FailoverPreviewRequest>): Promise<FailoverImpact>;
  changeRecoveryPoint(name: string, point: In<typeof PointOption>): Promise<JobView>;
  commit(name: string): Promise<JobView>;
  reprotect(name: string): Promise<JobView>;
  failback(name: string, request?: In<typeof FailbackRequest>): Promise<JobView>;
  /** After a failover: the machine stays at the recovery site for good and is no longer protected. */
  completeMigration(name: string): Promise<JobView>;

  // Recovery plans and jobs
  addPlan(input: PlanSpecInput): Promise<PlanSpec>;
  getPlan(name: string): Promise<PlanSpec>;
  /** Replace a plan's groups and actions (order kept exactly). */
  replacePlan(name: string, input: PlanSpecInput): Promise<PlanSpec>;
  removePlan(name: string): Promise<Deleted>;
  listPlans(): Promise<PlanSpec[]>;
  runPlan(name: string, request: In<typeof PlanRunRequest>): Promise<JobView>;
  /** What running the plan would do now, group by group. Changes nothing. */
  planPreview(name: string, request: In<typeof PlanRunRequest>): Promise<FailoverImpact>;
  /** Carry on with a plan job waiting for a manual action. */
  resumeJob(jobId: string): Promise<JobView>;
  /** Honoured between tasks until a failover's start task. */
  cancel(jobId: string): Promise<void>;
  /** Recent jobs, newest first. */
  jobs(filter?: { target?: string; limit?: number }): Promise<JobView[]>;
  job(id: string): Promise<JobView>;

  // Tokens and the registration key
  /** A bearer token (shown once; kept hashed). */
  createToken(name: string, role?: "admin" | "agent", lifetimeMs?: number): Promise<string>;
  revokeToken(name: string): Promise<void>;
  /** A new registration key (shown once). */
  rotateRegistrationKey(): Promise<string>;
  revokeRegistrationKey(): Promise<void>;
}

/**
 * The engine's side of its agents (the routes under /v1/agents): inputs are checked by their body
 * schemas in schema/agent.ts (AgentRegistration, AgentHeartbeat, BlockLookup, AgentWindowReport,
 * AgentFailureReport), answers are the response schemas.
 */
export interface AgentEngineApi {
  registerAgent(input: In<typeof AgentRegistration>): Promise<AgentIdentity>;
  /** The agent calls in; answers with the work due for its machines (leased, so handed out once). */
  agentHeartbeat(host: string, input: In<typeof AgentHeartbeat>): Promise<HeartbeatAnswer>;
  /** The vault's data key (base64; null when the vault is not encrypted). */
  agentDataKey(host: string): Promise<AgentDataKey>;
  agentDiskState(host: string, item: string, disk: string): Promise<DiskStateView>;
  /** Which of these blocks the store has, and where. */
  lookupBlocks(input: In<typeof BlockLookup>): Promise<IndexEntry[]>;
  /** Record a window the agent read (its blocks already in the store): the points made. */
  agentWindow(host: string, input: In<typeof AgentWindowReport>): Promise<PointView[]>;
  agentFailure(host: string, input: In<typeof AgentFailureReport>): Promise<void>;
}
