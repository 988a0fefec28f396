// What the resource classes share: args typed from the zod schemas' input types, each field a
// pulumi.Input, and the props bag handed to pulumi.dynamic.Resource.
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { ActiveSite, FailbackRequest, FailoverIntent } from "../schema";

/** Each field of a spec as a pulumi.Input (optional fields stay optional). */
export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Every resource but the Vault lives in one: pass the Vault's `path` output (a dependency, and which daemon). */
export interface InVault {
  vault: pulumi.Input<string>;
}

/** Args of a named spec: its fields as inputs, the vault, and a `name` defaulting to the logical name. */
export type NamedArgs<Spec> = InVault & Inputs<Omit<Spec, "name">> & { name?: pulumi.Input<string> };

/** Args with `name` defaulting to the resource's logical name, plus each output the provider reports (registered as unknown). */
export function propsOf(logicalName: string, args: object, outputs: readonly string[], named = true): pulumi.Inputs {
  const props: pulumi.Inputs = { ...args };
  if (named) props.name = (args as { name?: pulumi.Input<string> }).name ?? logicalName;
  for (const key of outputs) if (!(key in props)) props[key] = undefined;
  return props;
}

/** The package's type tokens: pulumi-nodejs:dynamic/lifeboat:<Kind>. */
export const MODULE = "lifeboat";

/**
 * Declarative failover (ProtectedItem, RecoveryPlan): where the machines should run. Changing it and
 * running `pulumi up` fails over (or back), commits and reprotects; `pulumi preview` shows the recovery
 * point each machine would use and the expected data loss. Leave it out to manage failover elsewhere.
 */
export type DesiredSiteArgs = Inputs<{
  activeSite?: ActiveSite;
  /** How to fail over (default planned: zero data loss, needs the source's shutdown hook). */
  failover?: z.input<typeof FailoverIntent>;
  /** How to fail back (default: the original location, by delta). */
  failback?: z.input<typeof FailbackRequest>;
}>;

/** The outputs of declarative failover, registered as unknown until the provider reports them. */
export const DESIRED_SITE_OUTPUTS = ["activeSite", "failoverImpact"] as const;
