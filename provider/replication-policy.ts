import * as pulumi from "@pulumi/pulumi";
import type { PolicySpec, PolicySpecInput } from "../schema";
import { providerFor } from "./dynamic";
import { MODULE, propsOf, type NamedArgs } from "./resource";

const provider = providerFor("ReplicationPolicy");

export type ReplicationPolicyArgs = NamedArgs<PolicySpecInput>;

/** A replication policy (and its `<name>-failback` policy). name replaces; everything else updates in place. */
export class ReplicationPolicy extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly copyFrequency: pulumi.Output<PolicySpec["copyFrequency"]>;
  declare readonly retentionHours: pulumi.Output<number>;
  declare readonly appConsistentHours: pulumi.Output<number>;
  declare readonly rpoThresholdMinutes: pulumi.Output<number>;
  declare readonly initialReplicationStart: pulumi.Output<string | undefined>;
  declare readonly resyncWindow: pulumi.Output<PolicySpec["resyncWindow"]>;

  constructor(name: string, args: ReplicationPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = ["copyFrequency", "retentionHours", "appConsistentHours", "rpoThresholdMinutes", "initialReplicationStart", "resyncWindow"];
    super(provider, name, propsOf(name, args, outputs), opts, MODULE, "ReplicationPolicy");
  }
}
