import * as path from "node:path";
import { runCommand } from "./measure";

/** What every measured child reports: the operation's time inside the child, and the child's peak memory. */
export interface ChildFigures {
  ms: number;
  maxRssKiB: number;
}

export interface ProtectFigures extends ChildFigures {
  bytesRead: number;
  bytesStored: number;
}

export interface CycleFigures extends ChildFigures {
  bytesRead: number;
  blocksChanged: number;
  bytesStored: number;
  /** Pack file bytes (engine.status().vault.store.packBytes) around the cycle. */
  packBytesBefore: number;
  packBytesAfter: number;
}

/** The child's operations and what each reports. */
export interface WorkerOps {
  /** Init a vault and time Engine.protect on an image: initial replication and the first recovery point. */
  protect: ProtectFigures;
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

/** Parent side: run one operation in a fresh Node process. */
export async function runWorker<Op extends WorkerOp>(op: Op, args: string[] = []): Promise<Measured<WorkerOps[Op]>> {
  const { ms, stdout } = await runCommand(process.execPath, [WORKER_SCRIPT, op, ...args]);
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return { ...(JSON.parse(line) as WorkerOps[Op]), wallMs: ms };
  } catch {
    throw new Error(`worker '${op}' printed no figures: ${stdout.slice(-500)}`);
  }
}
