// What the resource classes share: args typed from the zod schemas' input types, a pulumi.Input at
// every level (as Pulumi's own packages declare them), and the props bag handed to pulumi.dynamic.Resource.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { ActiveSite, AdoptionInput, FailbackRequest, FailoverIntent } from "../schema";
import { PREVIEW_FLAG } from "./runtime/values";

type Plain = string | number | boolean | null | undefined;

/**
 * A value as a program may give it: an Input, and so is each field of an object and each element of an
 * array, to any depth (`recovery: { site: dr.name }`, `disks: [{ path: image.path }]`). A union of
 * plain values stays one Input, so an Output of the whole union fits.
 */
export type DeepInput<T> = [T] extends [Plain] ? pulumi.Input<T> : pulumi.Input<DeepShape<T>>;
type DeepShape<T> = T extends ReadonlyArray<infer E> ? DeepInput<E>[] : T extends object ? { [K in keyof T]: DeepInput<T[K]> } : T;

/** Each field of a spec as a DeepInput (optional fields stay optional). */
export type Inputs<T> = { [K in keyof T]: DeepInput<T[K]> };

/** Every resource but the Vault lives in one: pass the Vault's `path` output (a dependency, and which daemon). */
export interface InVault {
  vault: pulumi.Input<string>;
}

/** Args of an object with a name in the vault: the vault, `adopt`, and the spec's fields. */
export type VaultObjectArgs<Spec> = InVault & Inputs<AdoptionInput> & Inputs<Spec>;

/** Args of a named spec: its fields as inputs, the vault, and a `name` defaulting to the logical name. */
export type NamedArgs<Spec> = VaultObjectArgs<Omit<Spec, "name">> & { name?: pulumi.Input<string> };

/** Args with `name` defaulting to the resource's logical name, plus each output the provider reports (registered as unknown). */
export function propsOf(logicalName: string, args: object, outputs: readonly string[], named = true): pulumi.Inputs {
  const props: pulumi.Inputs = { ...args };
  if (named) props.name = (args as { name?: pulumi.Input<string> }).name ?? logicalName;
  for (const key of outputs) if (!(key in props)) props[key] = undefined;
  // What a move or a replacement would do is shown in a preview only: an up's check stores no such note,
  // so the next preview's diff (old inputs against new) never shows a spent one.
  props[PREVIEW_FLAG] = pulumi.runtime.isDryRun();
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
