// The bench drives Lifeboat as a user does: whole `lifeboat` commands, each a new process.
import * as path from "node:path";
import { runCommand } from "../common/measure";
import { measuredCommand, type MeasuredCommand } from "./read-bytes";

/** The built CLI (dist/cli/main.js), run by this Node. */
const CLI = path.resolve(__dirname, "../../cli/main.js");

/** `lifeboat --vault VAULT ARGS...`; rejects with its stderr when it fails. */
export const lifeboat = (vault: string, args: string[]) => runCommand(process.execPath, [CLI, "--vault", vault, ...args]);

export interface SyncFigures extends MeasuredCommand {
  /** What the engine says it read from the disk (the point's bytesRead). */
  engineBytesRead: number;
  blocksChanged: number;
  /** The job's own duration: the cycle inside the process, without starting Node and opening the vault. */
  jobMs: number;
}

/** `lifeboat --vault VAULT sync ITEM --json` under GNU time: one replication cycle, as a whole command. */
export async function syncCycle(vault: string, item: string, scratchDir: string): Promise<SyncFigures> {
  const run = await measuredCommand(process.execPath, [CLI, "--vault", vault, "sync", item, "--json"], scratchDir);
  const job = JSON.parse(run.stdout) as {
    state: string;
    error: unknown;
    durationMs: number;
    result: { points: Array<{ bytesRead: number; blocksChanged: number }> } | null;
  };
  if (job.state !== "Succeeded" || !job.result) throw new Error(`lifeboat sync ${item} (vault ${vault}) ended ${job.state}: ${JSON.stringify(job.error)}`);
  const [point] = job.result.points;
  return { ...run, engineBytesRead: point.bytesRead, blocksChanged: point.blocksChanged, jobMs: job.durationMs };
}

/** `lifeboat --vault VAULT points ITEM` under GNU time: a command that opens the vault and does no replication work. */
export const listPoints = (vault: string, item: string, scratchDir: string): Promise<MeasuredCommand> =>
  measuredCommand(process.execPath, [CLI, "--vault", vault, "points", item], scratchDir);
