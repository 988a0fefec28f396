import * as pulumi from "@pulumi/pulumi";
import { DRILL_OUTPUTS, type PointOption } from "../schema";
import { providerFor } from "./dynamic";
import { MODULE, propsOf, type InVault } from "./resource";

const provider = providerFor("Drill");

export type DrillArgs = InVault & {
  /** Exactly one of item and plan: a ProtectedItem's or RecoveryPlan's `name` output. */
  item?: pulumi.Input<string>;
  plan?: pulumi.Input<string>;
  /** Default "latest" (a drill uses the latest processed point: it never disturbs the source). */
  point?: pulumi.Input<PointOption>;
  /** Recorded with the cleanup when the drill is deleted. */
  notes?: pulumi.Input<string>;
};

export interface DrillPoint {
  id: string;
  capturedAt: string;
  kind: string;
}

export interface DrillReport {
  point: DrillPoint;
  machines: DrillMachine[];
  checksPassed: boolean;
  durationSeconds: number;
  startedAt: string;
}

export interface DrillMachine {
  item: string;
  name: string;
  ip: string | null;
  started: boolean;
}

/**
 * A test failover: create brings isolated copies up at the recovery site and reports them; delete
 * cleans them up. Every input forces a new drill.
 */
export class Drill extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly item: pulumi.Output<string | undefined>;
  declare readonly plan: pulumi.Output<string | undefined>;
  /** The option asked for (input). */
  declare readonly point: pulumi.Output<PointOption>;
  /** The recovery point the drill used (of the first machine, for a plan). */
  declare readonly recoveryPoint: pulumi.Output<DrillPoint>;
  declare readonly machines: pulumi.Output<DrillMachine[]>;
  declare readonly checksPassed: pulumi.Output<boolean>;
  declare readonly durationSeconds: pulumi.Output<number>;
  declare readonly startedAt: pulumi.Output<string>;
  /** All of the above as one object: `{ point, machines, checksPassed, durationSeconds, startedAt }`. */
  declare readonly report: pulumi.Output<DrillReport>;

  constructor(name: string, args: DrillArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, propsOf(name, args, DRILL_OUTPUTS, false), opts, MODULE, "Drill");
  }
}
