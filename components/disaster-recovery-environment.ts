// A whole disaster recovery environment from one compact description: the vault, the primary and
// recovery sites, a replication policy, the recovery network and its mappings, every machine as a
// ProtectedItem and a RecoveryPlan over them, all children of this component. The description is
// checked by schema/environment.ts (the resources' own schemas) before anything is declared.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { environmentResources, parse, type EnvironmentInput, type EnvironmentResources } from "../schema";
import { Network, NetworkMapping, ProtectedItem, RecoveryPlan, ReplicationPolicy, Site, Vault } from "../provider";

export type DisasterRecoveryEnvironmentArgs = EnvironmentInput;

/** One machine as the summary shows it: observed at the last create, update or refresh. */
export interface ItemSummary {
  name: string;
  health: string;
  rpoSeconds: number | null;
  activeSite: string;
}

export const ENVIRONMENT_TYPE = "lifeboat:index:DisasterRecoveryEnvironment";

/**
 * Paths in the description are relative to the program's working directory (the Pulumi project
 * directory); the daemon runs elsewhere, so they are made absolute here.
 */
function absolutePaths(env: EnvironmentResources, base: string): EnvironmentResources {
  const abs = (p: string) => path.resolve(base, p);
  return {
    ...env,
    vault: { path: abs(env.vault.path) },
    recovery: { ...env.recovery, path: abs(env.recovery.path) },
    items: env.items.map((item) => ({ ...item, disks: item.disks.map((disk) => (disk.path === undefined ? disk : { ...disk, path: abs(disk.path) })) })),
  };
}

export class DisasterRecoveryEnvironment extends pulumi.ComponentResource {
  readonly vault: Vault;
  readonly primarySite: Site;
  readonly recoverySite: Site;
  readonly policy: ReplicationPolicy;
  readonly network?: Network;
  readonly networkMappings: NetworkMapping[];
  /** The protected items by machine name. */
  readonly items: Record<string, ProtectedItem>;
  readonly plan: RecoveryPlan;
  /** Every machine with its health, RPO and active site. */
  readonly summary: pulumi.Output<ItemSummary[]>;

  constructor(name: string, args: DisasterRecoveryEnvironmentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Bad descriptions fail here, naming the property, before any resource is declared.
    const env = absolutePaths(parse(environmentResources(name), args, `DisasterRecoveryEnvironment '${name}'`), process.cwd());
    super(ENVIRONMENT_TYPE, name, {}, opts);
    const child = (dependsOn: pulumi.Resource[] = []): pulumi.CustomResourceOptions => ({ parent: this, dependsOn });

    this.vault = new Vault(`${name}-vault`, env.vault, child());
    const vault = this.vault.path;
    this.primarySite = new Site(`${name}-${env.primary.name}`, { vault, ...env.primary }, child());
    this.recoverySite = new Site(`${name}-${env.recovery.name}`, { vault, ...env.recovery }, child());
    this.policy = new ReplicationPolicy(`${name}-${env.policy.name}`, { vault, ...env.policy }, child());
    const network = env.network && new Network(`${name}-${env.network.name}`, { vault, ...env.network }, child([this.recoverySite]));
    this.network = network;
    this.networkMappings = env.networkMappings.map(
      (mapping) => new NetworkMapping(`${name}-map-${mapping.source}`, { vault, ...mapping }, child(network ? [network] : [])),
    );

    const inventory = [this.primarySite, this.recoverySite, this.policy, ...(network ? [network] : []), ...this.networkMappings];
    this.items = Object.fromEntries(env.items.map((item) => [item.name, new ProtectedItem(`${name}-${item.name}`, { vault, ...item }, child(inventory))]));
    const items = Object.values(this.items);
    // Items by their `name` outputs: the plan waits for them, and a preview checks them as still to come.
    const groups = env.plan.groups.map((group) => ({ ...group, items: group.items.map((item) => this.items[item].name) }));
    this.plan = new RecoveryPlan(`${name}-plan`, { vault, name: env.plan.name, groups, ...env.planIntent }, child(items));

    this.summary = pulumi.all(
      items.map((item, i) =>
        pulumi.all([item.health, item.rpoSeconds, item.activeSite]).apply(([health, rpoSeconds, activeSite]) => ({
          name: env.items[i].name,
          health,
          rpoSeconds: rpoSeconds ?? null,
          activeSite,
        })),
      ),
    );
    this.registerOutputs({ summary: this.summary, vaultPath: vault, plan: this.plan.name });
  }
}
