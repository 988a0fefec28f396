import { promises as fs } from "node:fs";
import { changeBlocks } from "../common/image";
import { directoryBytes, type PageCache } from "../common/measure";
import type { Random } from "../common/random";
import { durableCopy, plainCopy, rsyncDelta, type RsyncFigures } from "../common/baselines";
import { CHANGED_FRACTION, RUNS } from "../common/suite";
import { runWorker, type CycleFigures, type Measured, type ProtectFigures } from "../common/worker-protocol";

/** Files of one bench run, all in one directory on one file system. */
export interface Workspace {
  image: string;
  vault: string;
  /** cp's target, beside the image. */
  copy: string;
  /** rsync's destination: the image as the replica had it at the last cycle. */
  replica: string;
  /** Where materialize writes the point's disks. */
  materialized: string;
}

export interface BenchContext {
  workspace: Workspace;
  cache: PageCache;
  random: Random;
  log: (line: string) => void;
}

export interface InitialResult {
  ours: Array<Measured<ProtectFigures>>;
  cpRunsMs: number[];
}

/**
 * Initial replication (Engine.protect) of the image into a new vault, against copying it with cp. Each of
 * our runs starts from an empty vault; the last run's vault stays for the delta rounds.
 */
export async function benchInitial({ workspace, cache, log }: BenchContext): Promise<InitialResult> {
  const ours: Array<Measured<ProtectFigures>> = [];
  const cpRunsMs: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`initial replication, run ${run} of ${RUNS}: Engine.protect`);
    await fs.rm(workspace.vault, { recursive: true, force: true });
    await cache.drop();
    ours.push(await runWorker("protect", [workspace.vault, workspace.image]));

    log(`initial replication, run ${run} of ${RUNS}: cp`);
    await cache.drop();
    cpRunsMs.push(await durableCopy(workspace.image, workspace.copy));
  }
  await fs.rm(workspace.copy, { force: true });
  return { ours, cpRunsMs };
}

export interface DeltaRound {
  changedBlocks: number;
  ours: Measured<CycleFigures> & {
    /** Whole vault directory (packs and catalog) around the cycle: what the replica really grew by. */
    vaultBytesBefore: number;
    vaultBytesAfter: number;
  };
  /** Null when rsync could not be installed. */
  rsync: RsyncFigures | null;
}

/**
 * Delta rounds: each rewrites CHANGED_FRACTION of the image's blocks (against the previous round's state),
 * then brings both replicas up to date, the vault by one replication cycle and a copy of the image as it was
 * before the change by rsync, so both sides do the same work.
 */
export async function benchDelta(context: BenchContext, blocks: number, withRsync: boolean): Promise<DeltaRound[]> {
  const { workspace, cache, random, log } = context;
  const rounds: DeltaRound[] = [];
  for (let round = 1; round <= RUNS; round++) {
    if (withRsync) await plainCopy(workspace.image, workspace.replica);
    const changed = await changeBlocks(workspace.image, blocks, CHANGED_FRACTION, random);

    log(`delta round ${round} of ${RUNS}: replicateNow (${changed.length} blocks changed)`);
    const vaultBytesBefore = await directoryBytes(workspace.vault);
    await cache.drop();
    const cycle = await runWorker("cycle", [workspace.vault]);
    const ours = { ...cycle, vaultBytesBefore, vaultBytesAfter: await directoryBytes(workspace.vault) };
    if (ours.blocksChanged !== changed.length) log(`warning: the engine counted ${ours.blocksChanged} changed blocks, the bench changed ${changed.length}`);

    let rsync: RsyncFigures | null = null;
    if (withRsync) {
      log(`delta round ${round} of ${RUNS}: rsync`);
      await cache.drop();
      rsync = await rsyncDelta(workspace.image, workspace.replica);
    }
    rounds.push({ changedBlocks: changed.length, ours, rsync });
  }
  await fs.rm(workspace.replica, { force: true });
  return rounds;
}
