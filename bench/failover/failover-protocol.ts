/** What the parent and failover-worker.ts agree on: operations, what each reports, and names. */
import * as path from "node:path";
import { machineName } from "../common/suite";
import { runChild, type ChildFigures, type Measured } from "../common/worker-protocol";

export interface ProtectPlanFigures extends ChildFigures {
  machines: number;
  bytesRead: number;
  bytesStored: number;
}

export interface PlanRunFigures extends ChildFigures {
  /** CPU time of the run, all threads: near ms means one busy thread, well below it means waiting for I/O. */
  cpuMs: number;
  machines: number;
  /** Each group's wall time, from the plan job's task records. */
  groupMs: number[];
}

export interface FailbackFigures extends ChildFigures {
  cpuMs: number;
  /** From the failback job's result: bytes written to the primary disk, before and after the switch. */
  bytesTransferred: number;
  preSyncBytes: number;
  finalBytes: number;
  diskBytes: number;
}

export interface FailoverOps {
  /** Init a vault, protect one machine per image (disk "os", recovery with compute driver none), add the plans. Setup. */
  "protect-plan": ProtectPlanFigures;
  /** Time Engine.runPlan (unplanned, latest-processed) of one plan on that vault. */
  "run-plan": PlanRunFigures;
  /** Init a vault, protect one machine, fail it over, commit and reprotect it. Setup. */
  "prepare-failback": ChildFigures;
  /** Time Engine.failback to the original location, by delta or as a full download. */
  failback: FailbackFigures;
}
export type FailoverOp = keyof FailoverOps;

export type FailbackMode = "delta" | "full";

/** The plans "protect-plan" adds: every machine in one group, and the same machines in two groups. */
export const PLANS = { oneGroup: "one-group", twoGroups: "two-groups" } as const;
export type PlanVariant = keyof typeof PLANS;

export const FAILBACK_MACHINE = machineName(0);
/** Each machine's one disk. */
export const DISK = "os";

/** Where the engine materializes a failed-over machine's disk: <recovery site>/<machine>/<disk>. */
export const recoveredDisk = (siteDir: string, machine: string): string => path.join(siteDir, machine, DISK);

const FAILOVER_WORKER = path.join(__dirname, "failover-worker.js");

/** Parent side: run one failover-worker operation in a fresh Node process. */
export function runFailoverWorker<Op extends FailoverOp>(op: Op, args: string[]): Promise<Measured<FailoverOps[Op]>> {
  return runChild(FAILOVER_WORKER, op, args);
}
