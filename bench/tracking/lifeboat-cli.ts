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
}

/** `lifeboat --vault VAULT sync ITEM --json` under GNU time: one replication cycle, as a whole command. */
export async function syncCycle(vault: string, item: string, scratchDir: string): Promise<SyncFigures> {
  const run = await measuredCommand(process.execPath, [CLI, "--vault", vault, "sync", item, "--json"], scratchDir);
  const job = JSON.parse(run.stdout) as { state: string; error: unknown; result: { points: Array<{ bytesRead: number; blocksChanged: number }> } | null };
  if (job.state !== "Succeeded" || !job.result) throw new Error(`lifeboat sync ${item} (vault ${vault}) ended ${job.state}: ${JSON.stringify(job.error)}`);
  const [point] = job.result.points;
  return { ...run, engineBytesRead: point.bytesRead, blocksChanged: point.blocksChanged };
}
