// A disaster recovery environment in one compact description — a vault, a primary and a recovery
// site, one policy, a recovery network, machines and a recovery plan — and its expansion into the
// specs of the individual resources. Every rule about an item, a policy, a network or a plan is
// checked by that resource's own schema (ItemSpec, PolicySpec, ...): this file adds only the
// environment's defaults and the rules that span resources, and reports each failure under the
// property of the description it came from ("machines.1.disks", "policy.retentionHours").
import { z } from "zod";
import { Name } from "./common";
import { ItemSpec, type ItemSpecInput } from "./item";
import { type PlanGroup, PlanSpec } from "./plan";
import { ActiveSiteIntent } from "./intent";
import { PolicySpec, type PolicySpecInput } from "./policy";
import { NetworkMappingSpec, NetworkSpec } from "./recovery";
import type { SiteSpecInput } from "./site";

const SourceSiteKind = z.enum(["hyperv", "vmm", "physical", "kvm"]);

export const EnvironmentPrimary = z.strictObject({
  name: Name.default("primary"),
  kind: SourceSiteKind.default("hyperv"),
  /** Default: every host a machine names. */
  hosts: z.array(Name).optional(),
});

export const EnvironmentRecovery = z.strictObject({
  name: Name.default("recovery"),
  /** The directory where machines come up at failover. */
  path: z.string().min(1, "must name the recovery site's directory"),
  /** The recovery network (its site is the recovery site). */
  network: NetworkSpec.omit({ site: true }).optional(),
});

/** Each part below is checked by its resource's own schema; here it only has to be an object. */
const Part = z.record(z.string(), z.unknown());

export const EnvironmentSpec = z.strictObject({
  vault: z.strictObject({ path: z.string().min(1, "must name the vault directory") }),
  primary: EnvironmentPrimary.default({ name: "primary", kind: "hyperv" }),
  recovery: EnvironmentRecovery,
  /** A ReplicationPolicy without a name (default "default"); unset fields take the policy defaults. */
  policy: Part.default({}),
  /** ProtectedItems without site and policy (the environment's); recovery.site defaults to the recovery site. */
  machines: z.array(Part).min(1, "an environment needs at least one machine"),
  /** Recovery plan groups in order: machine names, or PlanGroups with before/after actions. Default: one group per replication group, in machine order. */
  groups: z.array(z.union([z.array(Name).min(1, "a group needs at least one machine"), Part])).optional(),
  /** The plan's name, and failover as code: where its machines should run (see schema/intent.ts). */
  plan: z.strictObject({ name: Name.optional(), ...ActiveSiteIntent }).default({}),
  /** Default: every network a machine's NIC names → the recovery network. */
  networkMappings: z.array(NetworkMappingSpec).optional(),
});

/** A machine of the description: a ProtectedItem's fields without site and policy; recovery.site optional. */
export type EnvironmentMachineInput = Omit<ItemSpecInput, "site" | "policy" | "recovery"> & {
  recovery?: Omit<NonNullable<ItemSpecInput["recovery"]>, "site"> & { site?: string };
};

/** The description a DisasterRecoveryEnvironment takes (z.input of EnvironmentSpec, with its parts typed). */
export type EnvironmentInput = Omit<z.input<typeof EnvironmentSpec>, "policy" | "machines" | "groups"> & {
  policy?: Omit<PolicySpecInput, "name"> & { name?: string };
  machines: EnvironmentMachineInput[];
  groups?: (string[] | z.input<typeof PlanGroup>)[];
};

/** What an environment expands to: the spec of each resource, validated by its own schema. */
export interface EnvironmentResources {
  vault: { path: string };
  primary: SiteSpecInput & { hosts: string[] };
  recovery: SiteSpecInput & { path: string };
  policy: PolicySpec;
  network?: NetworkSpec;
  networkMappings: NetworkMappingSpec[];
  items: ItemSpec[];
  plan: PlanSpec;
  /** The plan's desired site and how to move there; absent: failover is managed elsewhere. */
  planIntent: Pick<z.infer<typeof EnvironmentSpec>["plan"], "activeSite" | "failover" | "failback">;
}

type Issue = { path: PropertyKey[]; message: string };

/** Parses one part with its resource's schema, reporting its issues under `at`. */
function parsePart<S extends z.ZodType>(schema: S, value: unknown, at: PropertyKey[], issues: Issue[], skip: PropertyKey[] = []): z.infer<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Properties the environment fills in (an item's site) are reported where the user wrote them instead.
  for (const issue of result.error.issues) if (!skip.includes(issue.path[0])) issues.push({ path: [...at, ...issue.path], message: issue.message });
  return undefined;
}

const SET_BY_ENVIRONMENT: Record<string, string> = {
  site: "is set by the environment (the primary site)",
  policy: "is set by the environment (its policy)",
};

/** Plan groups when none are given: machines of one replication group together, the others one by one, in machine order. */
function defaultGroups(items: ItemSpec[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const key = item.group === undefined ? `machine:${item.name}` : `group:${item.group}`;
    groups.set(key, [...(groups.get(key) ?? []), item.name]);
  }
  return [...groups.values()];
}

function expand(env: z.infer<typeof EnvironmentSpec>, planName: string, issues: Issue[]): EnvironmentResources {
  const { primary, recovery } = env;
  const policy = parsePart(PolicySpec, { name: "default", ...env.policy }, ["policy"], issues);
  const network = recovery.network && { ...recovery.network, site: recovery.name };

  const items: ItemSpec[] = [];
  env.machines.forEach((machine, i) => {
    for (const key of Object.keys(SET_BY_ENVIRONMENT)) if (key in machine) issues.push({ path: ["machines", i, key], message: SET_BY_ENVIRONMENT[key] });
    const own = (machine.recovery ?? {}) as Record<string, unknown>;
    const nics = Array.isArray(machine.nics) ? machine.nics : [];
    // A machine without NICs has no network mapping to follow: it recovers onto the recovery network.
    const networkDefault = network && nics.length === 0 ? { network: network.name } : {};
    const input = { ...machine, site: primary.name, policy: policy?.name ?? "default", recovery: { site: recovery.name, ...networkDefault, ...own } };
    if (env.machines.findIndex((other) => other.name === machine.name) < i)
      issues.push({ path: ["machines", i, "name"], message: `duplicate machine name '${String(machine.name)}'` });
    const item = parsePart(ItemSpec, input, ["machines", i], issues, Object.keys(SET_BY_ENVIRONMENT));
    if (item) items.push(item);
  });

  // PlanSpec's own property is `groups` too, so its issues keep their paths ("groups.1.items.0").
  const machineNames = new Set(env.machines.map((m) => m.name));
  const groups = (env.groups ?? defaultGroups(items)).map((g) => (Array.isArray(g) ? { items: g } : g));
  if (env.plan.name === undefined && !Name.safeParse(planName).success)
    issues.push({ path: ["plan", "name"], message: `must be given: the default '${planName}' is not a valid name` });
  const plan = parsePart(PlanSpec, { name: env.plan.name ?? "plan", groups }, [], issues);
  plan?.groups.forEach((group, gi) => {
    group.items.forEach((name, ii) => {
      if (!machineNames.has(name)) issues.push({ path: ["groups", gi, "items", ii], message: `'${name}' is not a machine of this environment` });
    });
  });
  if (plan && env.plan.name === undefined) plan.name = planName;

  const sources = [...new Set(items.flatMap((item) => item.nics.map((nic) => nic.network)))];
  const networkMappings = env.networkMappings ?? (network ? sources.map((source) => ({ source, target: network.name })) : []);
  const hosts = primary.hosts ?? [...new Set(items.flatMap((item) => (item.host ? [item.host] : [])))];
  return {
    vault: env.vault,
    primary: { name: primary.name, kind: primary.kind, hosts },
    recovery: { name: recovery.name, kind: "recovery", path: recovery.path },
    policy: policy!,
    ...(network ? { network } : {}),
    networkMappings,
    items,
    plan: plan!,
    planIntent: { activeSite: env.plan.activeSite, failover: env.plan.failover, failback: env.plan.failback },
  };
}

/**
 * The environment's resources, or the issues of the description. A plan's name defaults to
 * `planName` (the component passes its own name).
 */
export const environmentResources = (planName: string) =>
  EnvironmentSpec.transform((env, ctx) => {
    const issues: Issue[] = [];
    const resources = expand(env, planName, issues);
    for (const issue of issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    return issues.length ? z.NEVER : resources;
  });
