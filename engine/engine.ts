import { Vault, type VaultEncryption, type VaultOptions } from "./vault";
import type { KeyFlags } from "./keys/kek-source";
import { jobView, listJobs, type JobView } from "./jobs/jobs";
import { addHost, addSite, listSites, type SiteView } from "./inventory/sites";
import { addPolicy, getPolicy, listPolicies, updatePolicy, type PolicyView } from "./inventory/policies";
import { itemRow } from "./inventory/items";
import { enableProtection } from "./replication/protect";
import { replicateNow, resyncNow } from "./replication/on-demand";
import { retentionJob } from "./replication/retention";
import { materializeJob } from "./replication/materialize";
import { itemStatus, vaultStatus, type ItemStatus } from "./items/health";
import { listPoints, type PointView } from "./replication/points";
import { parseHours, rpoHistory, type RpoHistory } from "./replication/rpo-history";
import { tick, type TickOptions, type TickReport } from "./replication/scheduler";
import { ItemsBusy } from "./workers/cycle-pool";
import { stopBackgroundVerify, verify } from "./replication/verify";
import { addNetwork, addNetworkMapping, listNetworkMappings, listNetworks, type NetworkView } from "./inventory/networks";
import { cleanupTestFailover, testFailover } from "./failover/drill";
import { changeRecoveryPoint, commitFailover, completeMigration, failover } from "./failover/failover";
import { cancelJob, recoverAfterCrash } from "./crash/recover";
import { reprotect } from "./failover/reprotect";
import { previewItemFailover, previewPlanRun } from "./plans/preview";
import { failback } from "./failover/failback";
import {
  FailbackRequest,
  FailoverPreviewRequest,
  FailoverRequest,
  parse,
  PlanRunRequest,
  PointOption,
  VerifyRequest,
  type FailoverImpact,
  type NetworkMappingSpec,
  type PlanSpec,
} from "../schema";
import { addPlan, getPlan, listPlans, removePlan, replacePlan } from "./plans/plans";
import { resumePlan, runPlan } from "./plans/runner";
import { checkToken, createToken, revokeToken, type Role, type TokenHolder } from "./auth/tokens";
import { hostHasAgent } from "./inventory/hosts";
import { agentDataKey, registerAgent, type AgentIdentity } from "./agents/registration";
import { diskState, heartbeat, lookupBlocks, type HeartbeatAnswer } from "./agents/work";
import { recordAgentFailure, recordAgentWindow } from "./agents/report";
import { updateItem } from "./inventory/item-update";
import { updateSite } from "./inventory/site-update";
import { removeNetwork, removeNetworkMapping, removePolicy, removeSite } from "./inventory/remove";
import { checkItem, type Confine } from "./inventory/item-check";
import { vaultInfo, type VaultInfo } from "./inventory/vault-info";
import { disableProtection } from "./items/unprotect";
import type { AgentEngineApi, EngineApi, ItemCheckResult, VaultStatus } from "../schema";
import { catalogMetrics, probeCatalog, type CatalogMetrics } from "./catalog/metrics";
import type { EncodedMap } from "./agents/wire";
import type { IndexEntry } from "./store/packed/pack-index";

export type { VaultStatus };

/**
 * The engine's operations on one vault. Everything that changes the vault runs under the vault lock,
 * so a daemon and CLI commands can share a vault; reads run beside writers. Each method holds no work of
 * its own: it takes the lock, looks up what it names and calls one module function, which starts the job.
 */
export class Engine implements EngineApi, AgentEngineApi {
  private constructor(readonly vault: Vault) {}

  static async init(dir: string, options: VaultOptions = {}): Promise<{ engine: Engine; registrationKey: string }> {
    const { vault, registrationKey } = await Vault.init(dir, options);
    return { engine: new Engine(vault), registrationKey };
  }

  /**
   * Open a vault. What processes that died left behind is cleaned up first: windows left open are closed
   * (their machines resume) and their jobs end Interrupted (unless another process holds the vault lock
   * now: it does that at its next operation).
   */
  static async open(dir: string, options: VaultOptions = {}): Promise<Engine> {
    const vault = await Vault.open(dir, options);
    try {
      await recoverAfterCrash(vault, "try");
    } catch (error) {
      await vault.close();
      throw error;
    }
    return new Engine(vault);
  }

  /** Every change runs under the vault lock, after cleaning up what dead processes left (cheap when there is nothing). */
  private locked<T>(body: () => Promise<T>): Promise<T> {
    return this.vault.lock.run(async () => {
      await recoverAfterCrash(this.vault, "held");
      return body();
    });
  }

  /**
   * Wrap the vault's data key with another key-encryption key; the old one opens the vault no more. Only
   * where the vault is (both keys are the host's), never over the API.
   */
  changeKey(next: KeyFlags): Promise<VaultEncryption> {
    return this.locked(() => this.vault.changeKey(next));
  }

  /** The vault's directory (the daemon keeps its files there). */
  get dir(): string {
    return this.vault.dir;
  }

  /** Resolves when the catalog answers: the daemon's readiness check. */
  ready(): Promise<void> {
    return probeCatalog(this.vault.db);
  }

  /** What the catalog counts for the daemon's metrics (bytes per item, last cycles, jobs). */
  catalogMetrics(): Promise<CatalogMetrics> {
    return catalogMetrics(this.vault.db);
  }

  /** Who a presented bearer token stands for; undefined for an unknown, expired or revoked one. */
  authenticate(token: string): Promise<TokenHolder | undefined> {
    return checkToken(this.vault, token);
  }

  /** The vault's directory, identity and registration key state. */
  vaultInfo(): Promise<VaultInfo> {
    return vaultInfo(this.vault);
  }

  // Sites and policies
  addSite(input: unknown): Promise<SiteView> {
    return this.locked(() => addSite(this.vault, input));
  }
  /** Replace a site's hosts and/or a recovery site's directory. */
  updateSite(name: string, input: unknown): Promise<SiteView> {
    return this.locked(() => updateSite(this.vault, name, input));
  }
  removeSite(name: string): Promise<{ deleted: string }> {
    return this.locked(() => removeSite(this.vault, name));
  }
  addHost(site: string, host: string): Promise<SiteView> {
    return this.locked(() => addHost(this.vault, site, host));
  }
  listSites(): Promise<SiteView[]> {
    return listSites(this.vault);
  }
  addPolicy(input: unknown): Promise<{ policy: PolicyView; failback: PolicyView }> {
    return this.locked(() => addPolicy(this.vault, input));
  }
  updatePolicy(name: string, input: unknown): Promise<PolicyView> {
    return this.locked(() => updatePolicy(this.vault, name, input));
  }
  /** Removes its failback policy too; refused while items use either. */
  removePolicy(name: string): Promise<{ deleted: string }> {
    return this.locked(() => removePolicy(this.vault, name));
  }
  getPolicy(name: string): Promise<PolicyView> {
    return getPolicy(this.vault, name);
  }
  listPolicies(): Promise<PolicyView[]> {
    return listPolicies(this.vault);
  }

  // Protection and replication
  /** Enable protection; bad input throws a ValidationError and writes nothing. */
  protect(input: unknown): Promise<JobView> {
    return this.locked(() => enableProtection(this.vault, input));
  }

  /** What protecting this item would refuse now (schema and disks; not references), writing nothing. */
  checkItem(input: unknown, confine?: Confine): Promise<ItemCheckResult> {
    return checkItem(this.vault, input, confine);
  }

  /** Disable protection: the item, its points, replication state and drill machine go (a job). */
  unprotect(name: string): Promise<JobView> {
    return this.locked(async () => disableProtection(this.vault, await itemRow(this.vault, name)));
  }

  /**
   * One replication cycle now ("replicate now"). A machine in a replication group is captured with the
   * group's other protected machines in one window. A machine not yet initially replicated continues that.
   */
  async replicateNow(name: string, options: { appConsistent?: boolean } = {}): Promise<JobView> {
    for (;;) {
      try {
        return await this.locked(async () => replicateNow(this.vault, await itemRow(this.vault, name), options));
      } catch (error) {
        // A scheduled window of the machine is reading: it needs the lock to record, so wait without it.
        if (!(error instanceof ItemsBusy)) throw error;
        await this.vault.cycles.idle(error.items);
      }
    }
  }

  /** A resync on demand (the agent's, for a machine it reads). */
  resync(name: string): Promise<JobView> {
    return this.locked(async () => resyncNow(this.vault, await itemRow(this.vault, name)));
  }

  applyRetention(): Promise<JobView> {
    return this.locked(() => retentionJob(this.vault));
  }

  /** Write an item's disks at a recovery point ("latest" or an id) into outDir, one file per disk. */
  materialize(name: string, point: string, outDir: string): Promise<JobView> {
    return this.locked(async () => materializeJob(this.vault, await itemRow(this.vault, name), point, outDir));
  }

  /**
   * Verify (scrub): read back every block the chosen points rely on and check it against its id; damage
   * is recorded, the points relying on it are marked damaged and refused for restores. A job; its reads
   * run beside other operations (no vault lock) and its findings are recorded under the lock.
   */
  async verify(input: unknown = {}): Promise<JobView> {
    return verify(this.vault, parse(VerifyRequest, input ?? {}, "verify"));
  }

  /** Run whatever is due now: the daemon's scheduler calls this on a timer; tests after moving the clock. */
  async tick(options?: TickOptions): Promise<TickReport> {
    await recoverAfterCrash(this.vault, "wait");
    return tick(this.vault, options);
  }

  /** Give up the cycles under way and wait for them to settle (the daemon stops). */
  stopCycles(): Promise<void> {
    return this.vault.cycles.stop();
  }

  // Reads
  async points(name: string): Promise<PointView[]> {
    return listPoints(this.vault, await itemRow(this.vault, name));
  }
  /** RPO over the last `hours` (default 24), derived from the capture times of the points held (a sawtooth). */
  async rpoHistory(name: string, hours?: string | number): Promise<RpoHistory> {
    return rpoHistory(this.vault, await itemRow(this.vault, name), parseHours(hours));
  }
  async item(name: string): Promise<ItemStatus> {
    return itemStatus(this.vault, await itemRow(this.vault, name));
  }
  status(): Promise<VaultStatus> {
    return vaultStatus(this.vault);
  }
  jobs(filter: { target?: string; limit?: number } = {}): Promise<JobView[]> {
    return listJobs(this.vault.db, filter);
  }
  job(id: string): Promise<JobView> {
    return jobView(this.vault.db, id);
  }

  // Recovery networks
  addNetwork(input: unknown): Promise<NetworkView> {
    return this.locked(() => addNetwork(this.vault, input));
  }
  removeNetwork(name: string): Promise<{ deleted: string }> {
    return this.locked(() => removeNetwork(this.vault, name));
  }
  removeNetworkMapping(source: string): Promise<{ deleted: string }> {
    return this.locked(() => removeNetworkMapping(this.vault, source));
  }
  listNetworks(): Promise<NetworkView[]> {
    return listNetworks(this.vault);
  }
  addNetworkMapping(input: unknown): Promise<NetworkMappingSpec> {
    return this.locked(() => addNetworkMapping(this.vault, input));
  }
  listNetworkMappings(): Promise<NetworkMappingSpec[]> {
    return listNetworkMappings(this.vault);
  }

  // Failover
  /** Test failover to the recovery site's isolated test network; replication keeps running. */
  async drill(name: string, point: unknown = "latest"): Promise<JobView> {
    const option = parse(PointOption, point, "drill");
    return this.locked(async () => testFailover(this.vault, await itemRow(this.vault, name), option));
  }
  drillCleanup(name: string, notes?: string): Promise<JobView> {
    return this.locked(async () => cleanupTestFailover(this.vault, await itemRow(this.vault, name), notes));
  }
  async failover(name: string, request: unknown): Promise<JobView> {
    const parsed = parse(FailoverRequest, request, "failover");
    return this.locked(async () => failover(this.vault, await itemRow(this.vault, name), parsed));
  }
  /** What a failover (or failback) of the item would do now: its point, expected data loss, or why it would be refused. Changes nothing. */
  async failoverPreview(name: string, request: unknown): Promise<FailoverImpact> {
    return previewItemFailover(this.vault, name, parse(FailoverPreviewRequest, request, "failover preview"));
  }
  async changeRecoveryPoint(name: string, point: unknown): Promise<JobView> {
    const option = parse(PointOption, point, "change recovery point");
    return this.locked(async () => changeRecoveryPoint(this.vault, await itemRow(this.vault, name), option));
  }
  commit(name: string): Promise<JobView> {
    return this.locked(async () => commitFailover(this.vault, await itemRow(this.vault, name)));
  }
  reprotect(name: string): Promise<JobView> {
    return this.locked(async () => reprotect(this.vault, await itemRow(this.vault, name)));
  }
  async failback(name: string, request: unknown = {}): Promise<JobView> {
    const parsed = parse(FailbackRequest, request, "failback");
    return this.locked(async () => failback(this.vault, await itemRow(this.vault, name), parsed));
  }
  /** After a failover: the machine stays at the recovery site for good and is no longer protected. */
  completeMigration(name: string): Promise<JobView> {
    return this.locked(async () => completeMigration(this.vault, await itemRow(this.vault, name)));
  }
  // Recovery plans
  addPlan(input: unknown): Promise<PlanSpec> {
    return this.locked(() => addPlan(this.vault, input));
  }
  getPlan(name: string): Promise<PlanSpec> {
    return getPlan(this.vault, name);
  }
  /** Replace a plan's groups and actions (order kept exactly). */
  replacePlan(name: string, input: unknown): Promise<PlanSpec> {
    return this.locked(() => replacePlan(this.vault, name, input));
  }
  removePlan(name: string): Promise<{ deleted: string }> {
    return this.locked(() => removePlan(this.vault, name));
  }
  listPlans(): Promise<PlanSpec[]> {
    return listPlans(this.vault);
  }
  /** Test failover, failover or failback of every machine of a plan, group by group. */
  async runPlan(name: string, request: unknown): Promise<JobView> {
    const parsed = parse(PlanRunRequest, request, "recovery plan run");
    return this.locked(() => runPlan(this.vault, name, parsed));
  }
  /** What running the plan would do now, group by group, machine by machine. Changes nothing. */
  async planPreview(name: string, request: unknown): Promise<FailoverImpact> {
    return previewPlanRun(this.vault, name, parse(PlanRunRequest, request, "recovery plan run preview"));
  }
  /** Carry on with a plan job waiting for a manual action. */
  resumeJob(jobId: string): Promise<JobView> {
    return this.locked(() => resumePlan(this.vault, jobId));
  }

  /** A running job is flagged and stops itself before its start task (no lock needed); one whose process is gone is ended now. */
  cancel(jobId: string): Promise<void> {
    return cancelJob(this.vault, jobId);
  }

  /** A bearer token for the engine service (shown once; kept hashed). */
  createToken(name: string, role: Role = "admin", lifetimeMs?: number): Promise<string> {
    return this.locked(() => createToken(this.vault, name, role, lifetimeMs));
  }
  revokeToken(name: string): Promise<void> {
    return this.locked(() => revokeToken(this.vault, name));
  }

  rotateRegistrationKey(): Promise<string> {
    return this.locked(() => this.vault.rotateRegistrationKey());
  }
  revokeRegistrationKey(): Promise<void> {
    return this.locked(() => this.vault.revokeRegistrationKey());
  }

  /**
   * Change a protected item in place: move it to another host of its site (replication carries on from its
   * state, no new initial replication) and/or change its policy, hooks, recovery settings, group, NICs, ...
   */
  updateItem(name: string, input: unknown, confine?: Confine): Promise<ItemStatus> {
    return this.locked(async () => itemStatus(this.vault, await updateItem(this.vault, name, input, confine)));
  }
  /** A move is an update of the host (and disk paths). */
  moveItem(name: string, input: unknown): Promise<ItemStatus> {
    return this.updateItem(name, input);
  }

  /** Whether a host of a site has a registered agent (its machines' disks are the agent's to read). */
  hasAgent(site: string, host: string | undefined): Promise<boolean> {
    return hostHasAgent(this.vault, site, host);
  }

  // Agents on source hosts (the data path is theirs: they write blocks to the store and report metadata)
  registerAgent(input: unknown): Promise<AgentIdentity> {
    return this.locked(() => registerAgent(this.vault, input));
  }
  agentHeartbeat(host: string, input: unknown): Promise<HeartbeatAnswer> {
    return this.locked(() => heartbeat(this.vault, host, input));
  }
  agentDataKey(host: string): Promise<{ dataKey: string | null }> {
    return agentDataKey(this.vault, host);
  }
  agentDiskState(host: string, item: string, disk: string): Promise<{ version: number; map: EncodedMap | null }> {
    return diskState(this.vault, host, item, disk);
  }
  lookupBlocks(input: unknown): Promise<IndexEntry[]> {
    return lookupBlocks(this.vault, input);
  }
  agentWindow(host: string, input: unknown): Promise<PointView[]> {
    return this.locked(() => recordAgentWindow(this.vault, host, input));
  }
  agentFailure(host: string, input: unknown): Promise<void> {
    return this.locked(() => recordAgentFailure(this.vault, host, input));
  }

  /** A verify the scheduler started in the background stops (its findings so far are kept) before the vault closes. */
  async close(): Promise<void> {
    await stopBackgroundVerify(this.vault);
    await this.vault.close();
  }
}
