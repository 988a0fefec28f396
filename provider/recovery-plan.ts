import * as pulumi from "@pulumi/pulumi";
import type { ActiveSite, PlanSpec, PlanSpecInput } from "../schema";
import type { ImpactReport } from "./runtime/active-site";
import { providerFor } from "./dynamic";
import { DESIRED_SITE_OUTPUTS, MODULE, propsOf, type DesiredSiteArgs, type NamedArgs } from "./resource";

const provider = providerFor("RecoveryPlan");

/** Groups in order; pass the ProtectedItems' `name` outputs as items, so the plan waits for them. */
export type RecoveryPlanArgs = NamedArgs<PlanSpecInput> & DesiredSiteArgs;

/**
 * A recovery plan: name replaces; groups and actions update in place, their order kept exactly. A desired
 * activeSite runs the plan towards it (see DesiredSiteArgs).
 */
export class RecoveryPlan extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly groups: pulumi.Output<PlanSpec["groups"]>;
  /** Where the plan's machines run now: primary, recovery, or mixed while they are split. */
  declare readonly activeSite: pulumi.Output<ActiveSite | "mixed">;
  declare readonly failoverImpact: pulumi.Output<ImpactReport | undefined>;

  constructor(name: string, args: RecoveryPlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...propsOf(name, args, DESIRED_SITE_OUTPUTS), [PLAIN_ITEMS]: plainItems(args.groups) }, opts, MODULE, "RecoveryPlan");
  }
}

/** Where machines are named by plain text ("group.item" positions); the check looks those up in the vault. */
const PLAIN_ITEMS = "__plainItems";

/**
 * A preview knows a new ProtectedItem's `name` output already (it is an input), so the check cannot tell
 * it from text naming a machine nobody creates: the program side, which can, marks the text.
 */
function plainItems(groups: RecoveryPlanArgs["groups"]): string[] {
  if (!Array.isArray(groups)) return [];
  return groups.flatMap((group, gi) => {
    const items = (group as { items?: unknown } | undefined)?.items;
    return Array.isArray(items) ? items.flatMap((item, ii) => (typeof item === "string" ? [`${gi}.${ii}`] : [])) : [];
  });
}
