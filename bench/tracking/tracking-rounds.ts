// One round: a fresh 1% change written through QEMU, then the three ways of bringing a replica up to date,
// each a whole command from a cold page cache, with the bytes it made the disk read.
import * as os from "node:os";
import type { StorageDaemon } from "../../test/fixtures/qemu";
import { RSYNC_BASELINE, rsyncDeltaArgs, rsyncFigures } from "../common/baselines";
import { BLOCK_BYTES, pickChangedBlocks } from "../common/image";
import type { PageCache } from "../common/measure";
import type { Random } from "../common/random";
import { CHANGED_FRACTION } from "../common/suite";
import { writeBlocksThrough } from "./guest-writes";
import { listPoints, type SyncFigures, syncCycle } from "./lifeboat-cli";
import { measuredCommand, processReadBytes } from "./read-bytes";
import { ITEM, type Workspace } from "./tracking-setup";

/** One measured command of a round. */
export interface CycleRun {
  /** Wall time of the whole command. */
  ms: number;
  /** Bytes the process that reads the disk read from the device (QEMU for the tracked cycle, else the command itself). */
  diskReadBytes: number;
  /** Bytes the command's own processes read from the device: for Lifeboat, loading Node and the program and reading the vault too. */
  commandReadBytes: number;
  /** Load average (1 min) as the command ended: the machine is shared. */
  load: number;
}

export interface LifeboatRun extends CycleRun {
  engineBytesRead: number;
  blocksChanged: number;
  /** The sync job's own duration (the rest of `ms` is starting Node, loading the program, opening the vault). */
  jobMs: number;
}

export interface RsyncRun extends CycleRun {
  literalBytes: number;
  matchedBytes: number;
}

export interface Round {
  changedBlocks: number;
  changedBytes: number;
  /** The qemu-io process writing the change (not timed as part of any cycle). */
  writeMs: number;
  tracked: LifeboatRun;
  scan: LifeboatRun;
  rsync: RsyncRun;
  /** `lifeboat points vm` on the tracked vault, cold: what any whole lifeboat command costs before it does work. */
  startup: CycleRun;
}

export interface RoundContext {
  ws: Workspace;
  daemon: StorageDaemon;
  blocks: number;
  random: Random;
  cache: PageCache;
  log: (line: string) => void;
}

const load = () => os.loadavg()[0];

const lifeboatRun = (run: SyncFigures, diskReadBytes: number): LifeboatRun => ({
  ms: run.ms,
  diskReadBytes,
  commandReadBytes: run.readBytes,
  load: load(),
  engineBytesRead: run.engineBytesRead,
  blocksChanged: run.blocksChanged,
  jobMs: run.jobMs,
});

/** The tracked cycle: the engine reads through QEMU, so the disk bytes are QEMU's read_bytes across the command. */
async function trackedCycle({ ws, daemon }: RoundContext): Promise<LifeboatRun> {
  const pid = daemon.process.pid!;
  const before = await processReadBytes(pid);
  const run = await syncCycle(ws.trackedVault, ITEM, ws.scratch);
  return lifeboatRun(run, (await processReadBytes(pid)) - before);
}

/** The scan cycle: Lifeboat reads the image file itself. */
async function scanCycle({ ws }: RoundContext): Promise<LifeboatRun> {
  const run = await syncCycle(ws.scanVault, ITEM, ws.scratch);
  return lifeboatRun(run, run.readBytes);
}

/** A lifeboat command that opens the tracked vault and replicates nothing. */
async function startupFloor({ ws }: RoundContext): Promise<CycleRun> {
  const run = await listPoints(ws.trackedVault, ITEM, ws.scratch);
  return { ms: run.ms, diskReadBytes: run.readBytes, commandReadBytes: run.readBytes, load: load() };
}

/** rsync brings its copy (the image as of the last round) up to date. */
async function rsyncCycle({ ws }: RoundContext): Promise<RsyncRun> {
  const run = await measuredCommand("rsync", rsyncDeltaArgs(ws.image, ws.rsyncCopy), ws.scratch);
  const { literalBytes, matchedBytes } = rsyncFigures(run.ms, run.stdout);
  return { ms: run.ms, diskReadBytes: run.readBytes, commandReadBytes: run.readBytes, load: load(), literalBytes, matchedBytes };
}

export async function runRound(context: RoundContext, round: number, rounds: number): Promise<Round> {
  const { daemon, blocks, random, cache, log } = context;
  const changed = pickChangedBlocks(blocks, CHANGED_FRACTION, random);
  log(`tracking round ${round} of ${rounds}: writing ${changed.length} blocks through QEMU's live export`);
  const writeMs = await writeBlocksThrough(daemon.liveUri, changed, random, context.ws.scratch);
  const measured = async <T>(name: string, cycle: (c: RoundContext) => Promise<T>): Promise<T> => {
    log(`tracking round ${round} of ${rounds}: ${name}`);
    await cache.drop();
    return cycle(context);
  };
  const tracked = await measured("tracked cycle (kvm site, dirty bitmap)", trackedCycle);
  const scan = await measured("scan cycle (hyperv site, the image file)", scanCycle);
  const rsync = await measured(RSYNC_BASELINE, rsyncCycle);
  const startup = await measured("lifeboat points vm (the floor of a whole lifeboat command)", startupFloor);
  for (const [name, run] of [
    ["tracked", tracked],
    ["scan", scan],
  ] as const) {
    if (run.blocksChanged !== changed.length)
      log(`warning: the ${name} cycle counted ${run.blocksChanged} changed blocks, the bench changed ${changed.length}`);
  }
  return { changedBlocks: changed.length, changedBytes: changed.length * BLOCK_BYTES, writeMs, tracked, scan, rsync, startup };
}
