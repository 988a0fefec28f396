// A disaster recovery drill as a pipeline step: the only resource is a Drill (a test failover) of a
// machine or a recovery plan that already exists in the vault — protected by another stack, such
// as the quickstart. `up` brings isolated copies up at the recovery site and exports the drill
// report; `destroy` cleans them up, recording the notes. The production machines are never touched.
//
// Config:
//   vaultPath  the vault the item or plan lives in (required)
//   item       the protected item to drill, or
//   plan       the recovery plan to drill (exactly one of the two)
//   point      recovery point option or id (default: latest)
//   notes      recorded with the cleanup (default: the stack name)
import * as pulumi from "@pulumi/pulumi";
import * as lifeboat from "lifeboat";

const config = new pulumi.Config();

const drill = new lifeboat.Drill("drill", {
  vault: config.require("vaultPath"),
  item: config.get("item"),
  plan: config.get("plan"),
  point: config.get("point") ?? "latest",
  notes: config.get("notes") ?? `drill by stack ${pulumi.getStack()}`,
});

export const report = {
  point: drill.point,
  machines: drill.machines,
  checksPassed: drill.checksPassed,
  durationSeconds: drill.durationSeconds,
  startedAt: drill.startedAt,
};
