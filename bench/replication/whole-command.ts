import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ddRead, plainCopy, rsyncDelta, type RsyncFigures } from "../common/baselines";
import { changeBlocks } from "../common/image";
import { runCommand } from "../common/measure";
import { CHANGED_FRACTION, RUNS } from "../common/suite";
import { ITEM } from "../common/worker-protocol";
import type { BenchContext } from "./replication";

/** The page cache before a measured command: dropped, or holding every file the command reads. */
export type CacheMode = "cold" | "warm";
export const CACHE_MODES: CacheMode[] = ["cold", "warm"];

/** The `lifeboat` executable as installed (package.json "bin"): what a user or a cron job runs. */
const LIFEBOAT = path.join(__dirname, "../../cli/main.js");

export interface CommandRound {
  cache: CacheMode;
  changedBlocks: number;
  /** `lifeboat sync`: wall time from spawn to exit (Node's start-up, module loading and the vault's opening included). */
  ours: { ms: number; blocksChanged: number; bytesStored: number };
  /** Null when rsync could not be installed. */
  rsync: RsyncFigures | null;
}

interface SyncOutput {
  result: { points: Array<{ blocksChanged: number; bytesStored: number }> };
}

/** One `lifeboat sync` of the bench's item: a delta cycle as a user runs it. */
async function lifeboatSync(vault: string): Promise<CommandRound["ours"]> {
  const { ms, stdout } = await runCommand(process.execPath, [LIFEBOAT, "--vault", vault, "sync", ITEM, "--json"]);
  const [point] = (JSON.parse(stdout) as SyncOutput).result.points;
  return { ms, blocksChanged: point.blocksChanged, bytesStored: point.bytesStored };
}

/**
 * Delta cycles as whole commands, cold and warm: each round rewrites CHANGED_FRACTION of the blocks, then
 * `lifeboat sync` and rsync bring their replicas up to date, both from the same page-cache state: dropped
 * (cold), or with the image, rsync's replica and the vault's catalog read just before (warm).
 */
export async function benchWholeCommand(context: BenchContext, blocks: number, withRsync: boolean): Promise<CommandRound[]> {
  const { workspace, cache, random, log } = context;
  const catalog = path.join(workspace.vault, "catalog.sqlite");
  const prepare = (mode: CacheMode, files: string[]) => (mode === "cold" ? cache.drop() : cache.warm(files));
  const rounds: CommandRound[] = [];
  for (let round = 1; round <= RUNS; round++) {
    for (const mode of CACHE_MODES) {
      if (withRsync) await plainCopy(workspace.image, workspace.replica);
      const changed = await changeBlocks(workspace.image, blocks, CHANGED_FRACTION, random);
      log(`whole command, ${mode} cache, round ${round} of ${RUNS}: lifeboat sync (${changed.length} blocks changed)`);
      await prepare(mode, [workspace.image, catalog]);
      const ours = await lifeboatSync(workspace.vault);
      if (ours.blocksChanged !== changed.length) log(`warning: lifeboat counted ${ours.blocksChanged} changed blocks, the bench changed ${changed.length}`);
      let rsync: RsyncFigures | null = null;
      if (withRsync) {
        log(`whole command, ${mode} cache, round ${round} of ${RUNS}: rsync`);
        await prepare(mode, [workspace.image, workspace.replica]);
        rsync = await rsyncDelta(workspace.image, workspace.replica);
      }
      rounds.push({ cache: mode, changedBlocks: changed.length, ours, rsync });
    }
  }
  await fs.rm(workspace.replica, { force: true });
  return rounds;
}

/** dd's read time of the image, RUNS times from a dropped page cache: what reading the disk once costs here. */
export async function benchDdRead({ workspace, cache, log }: BenchContext): Promise<number[]> {
  const runs: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`dd read of the image, run ${run} of ${RUNS}`);
    await cache.drop();
    runs.push(await ddRead(workspace.image));
  }
  return runs;
}
