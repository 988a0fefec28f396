import * as path from "node:path";
import type { JobView } from "../../engine";
import { peakRssKiB, runCommand } from "./measure";

/** What every measured child reports: the operation's time inside the child, and the child's peak memory. */
export interface ChildFigures {
  ms: number;
  maxRssKiB: number;
}

export interface ProtectFigures extends ChildFigures {
  bytesRead: number;
  bytesStored: number;
  /** CPU time of the whole child (every thread) during the operation: steadier than wall time on a busy machine. */
  cpuMs: number;
}

export interface CycleFigures extends ChildFigures {
  bytesRead: number;
  blocksChanged: number;
  bytesStored: number;
  /** Pack file bytes (engine.status().vault.store.packBytes) around the cycle. */
  packBytesBefore: number;
  packBytesAfter: number;
}

export interface MaterializeFigures extends ChildFigures {
  /** Bytes of the disks written. */
  bytes: number;
  cpuMs: number;
}

/** The child's operations and what each reports. */
export interface WorkerOps {
  /**
   * Init a vault and time Engine.protect on an image: initial replication and the first recovery point.
   * A third argument "unencrypted" makes a vault without encryption at rest, to measure what it costs.
   */
  protect: ProtectFigures;
  /** Time Engine.materialize of the latest point into a directory (removed after). */
  materialize: MaterializeFigures;
  /** Time one replicateNow on that vault: a delta cycle. */
  cycle: CycleFigures;
  /** Load the engine and do nothing: the memory floor the other two are compared with. */
  idle: ChildFigures;
}
export type WorkerOp = keyof WorkerOps;

/** A child's figures plus the parent's wall time of the whole command, Node's startup and teardown included. */
export type Measured<T extends ChildFigures> = T & { wallMs: number };

/** The item the worker protects and replicates. */
export const ITEM = "bench-vm";

const WORKER_SCRIPT = path.join(__dirname, "engine-worker.js");

/** Child side: the figures as one JSON line on stdout, the line the parent looks for. */
export function emitFigures(figures: ChildFigures): void {
  process.stdout.write(JSON.stringify(figures) + "\n");
}

/** A child's operation: its figures, but for the peak memory, which the child adds when it is done. */
export type ChildOperation<T extends ChildFigures> = (args: string[]) => Promise<Omit<T, "maxRssKiB">>;

/**
 * Child side: run the operation named by the first command-line argument (the rest are its arguments)
 * and emit its figures with the process's peak RSS; a failure sets the exit code, which fails the parent.
 */
export function serveOperation(operations: Record<string, ChildOperation<ChildFigures>>): void {
  const [op, ...args] = process.argv.slice(2);
  const run = async () => {
    if (!(op in operations)) throw new Error(`unknown operation '${op}'; expected one of ${Object.keys(operations).join(", ")}`);
    const figures = await operations[op](args);
    emitFigures({ ...figures, maxRssKiB: peakRssKiB() });
  };
  run().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/** The job's result; a job that did not succeed fails the measurement rather than timing an error path. */
export function resultOf<T>(job: JobView): T {
  if (job.state !== "Succeeded") throw new Error(`${job.type} job for ${job.target} ended ${job.state}: ${job.error?.message ?? "no error recorded"}`);
  return job.result as T;
}

/** Parent side: run one operation of a child script in a fresh Node process. */
export async function runChild<T extends ChildFigures>(script: string, op: string, args: string[]): Promise<Measured<T>> {
  const { ms, stdout } = await runCommand(process.execPath, [script, op, ...args]);
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return { ...(JSON.parse(line) as T), wallMs: ms };
  } catch {
    throw new Error(`worker '${op}' printed no figures: ${stdout.slice(-500)}`);
  }
}

/** Parent side: run one engine-worker operation in a fresh Node process. */
export function runWorker<Op extends WorkerOp>(op: Op, args: string[] = []): Promise<Measured<WorkerOps[Op]>> {
  return runChild(WORKER_SCRIPT, op, args);
}

/** Peak memory of a Node process that only loads the engine: the floor under the measured operations. */
export async function benchIdle(): Promise<Measured<ChildFigures>> {
  return runWorker("idle");
}
