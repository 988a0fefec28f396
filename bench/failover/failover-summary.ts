import { CP_ALL_BASELINE } from "../common/baselines";
import type { FailbackResult, FailbackRun, PlanResult, PlanRun } from "./failover";
import type { PlanVariant } from "./failover-protocol";
import type { ImageLayout } from "../common/image";
import { mean, type MachineInfo } from "../common/measure";
import { compare, type Comparison } from "../common/summary";
import type { ChildFigures, Measured } from "../common/worker-protocol";

/** Everything one failover run measured, as written to failover.json. */
export interface FailoverResults {
  machine: MachineInfo;
  /** 1-minute load average when the suite started and ended: above 0 means other processes shared the CPUs. */
  loadAverage: { start: number; end: number };
  /** The plan's disks (one per machine); the failback machine's disk is a copy of the first. */
  disks: { machines: number; bytesEach: number; blockBytes: number; layout: ImageLayout; seed: number };
  runs: number;
  idle: Measured<ChildFigures>;
  plan: PlanResult;
  failback: FailbackResult;
}

/** The plan run's target: no slower than this many times cp of the same images. */
export const PLAN_MAX_RATIO = 1.2;

const fastest = (runs: Array<{ ms: number; wallMs: number }>, key: "ms" | "wallMs") => Math.min(...runs.map((r) => r[key]));
const planRuns = (plan: PlanResult, variant: PlanVariant): PlanRun[] => plan.rounds.map((r) => r.ours[variant]);
const bytesWritten = (runs: FailbackRun[]) => mean(runs.map((r) => r.bytesTransferred));

/** Times take the fastest run; bytes the mean; peak RSS the largest. */
export function summarizeFailover(results: FailoverResults): Comparison[] {
  const { plan, failback, idle, disks } = results;
  const cpMs = Math.min(...plan.rounds.map((r) => r.cpMs));
  const oneGroup = planRuns(plan, "oneGroup");
  const twoGroups = planRuns(plan, "twoGroups");
  const machines = `${disks.machines} machines`;
  const fullDownload = "failback with full download";
  const idleNode = "idle Node with the engine loaded";
  return [
    compare(`Recovery plan, ${machines} in 1 group (in process)`, "ms", fastest(oneGroup, "ms"), CP_ALL_BASELINE, cpMs, PLAN_MAX_RATIO),
    compare(`Recovery plan, ${machines} in 1 group (whole command)`, "ms", fastest(oneGroup, "wallMs"), CP_ALL_BASELINE, cpMs),
    compare(`Recovery plan, ${machines} in 2 groups (in process)`, "ms", fastest(twoGroups, "ms"), CP_ALL_BASELINE, cpMs),
    compare(
      "Recovery plan, disk space of the recovered disks",
      "bytes",
      mean(oneGroup.map((r) => r.allocatedBytes)),
      "cp's copies",
      mean(plan.rounds.map((r) => r.cpAllocatedBytes)),
    ),
    compare("Failback to original location by delta: bytes written", "bytes", bytesWritten(failback.delta), fullDownload, bytesWritten(failback.full)),
    compare("Failback to original location by delta: time (in process)", "ms", fastest(failback.delta, "ms"), fullDownload, fastest(failback.full, "ms")),
    compare("Peak RSS, recovery plan in 1 group", "KiB", Math.max(...oneGroup.map((r) => r.maxRssKiB)), idleNode, idle.maxRssKiB),
    compare("Peak RSS, failback by delta", "KiB", Math.max(...failback.delta.map((r) => r.maxRssKiB)), idleNode, idle.maxRssKiB),
  ];
}
