import * as pulumi from "@pulumi/pulumi";
import type { ActiveSite, Health, ItemSpec, ItemSpecInput, ProtectionState } from "../schema";
import { providerFor } from "./dynamic";
import type { ImpactReport } from "./runtime/active-site";
import type { ReplaceImpact } from "./runtime/replace-impact";
import { DESIRED_SITE_OUTPUTS, MODULE, propsOf, type DesiredSiteArgs, type NamedArgs } from "./resource";

const provider = providerFor("ProtectedItem");

export type ProtectedItemArgs = NamedArgs<ItemSpecInput> & DesiredSiteArgs;

/** What the engine reports about the machine. */
export const PROTECTED_ITEM_OUTPUTS = ["health", "rpoSeconds", "protectionState", "lastPointAt", "replaceImpact", ...DESIRED_SITE_OUTPUTS] as const;

/**
 * A protected machine. Creating it waits for enable-protection, initial replication included.
 * name, site and the disks' names replace (the preview's `replaceImpact` says what that deletes); a
 * disk's new path is a move, in place, keeping the recovery points; every other setting updates in place.
 */
export class ProtectedItem extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly site: pulumi.Output<string>;
  declare readonly host: pulumi.Output<string | undefined>;
  declare readonly policy: pulumi.Output<string>;
  declare readonly disks: pulumi.Output<ItemSpec["disks"]>;
  declare readonly group: pulumi.Output<string | undefined>;
  declare readonly health: pulumi.Output<Health>;
  /** Seconds since the latest recovery point was captured, when last read. */
  declare readonly rpoSeconds: pulumi.Output<number | null>;
  declare readonly protectionState: pulumi.Output<ProtectionState>;
  /** Where the machine runs now (observed; the input is where it should run). */
  declare readonly activeSite: pulumi.Output<ActiveSite>;
  /** What moving it to the desired site does: set when a preview or an update moves it. */
  declare readonly failoverImpact: pulumi.Output<ImpactReport | undefined>;
  declare readonly lastPointAt: pulumi.Output<string | null>;
  /** What replacing it deletes (points, a drill): set by a preview or an up that replaces it. */
  declare readonly replaceImpact: pulumi.Output<ReplaceImpact | undefined>;

  constructor(name: string, args: ProtectedItemArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, propsOf(name, args, PROTECTED_ITEM_OUTPUTS), opts, MODULE, "ProtectedItem");
  }
}
