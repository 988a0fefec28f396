/**
 * Tracking suite (issue 13): on a raw image full of data served by QEMU, 1% of its 64 KiB blocks changed at
 * random per round, a tracked cycle (kvm site: QEMU's dirty bitmap) against a scan cycle (the same image as
 * a file) and rsync of the same change; whole commands, cold cache, median of RUNS rounds, and the bytes read
 * from the disk. Writes tracking.{md,json}. BENCH_TRACKING_GIB sets the image's size (default 16; e.g. 0.25
 * for a quick run).
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { missingQemuTools } from "../../test/fixtures/qemu";
import { ensureRsync } from "../common/baselines";
import { BLOCK_BYTES, makeImage } from "../common/image";
import { describeMachine, MIB, PageCache, timed } from "../common/measure";
import { Random } from "../common/random";
import { textTable } from "../common/report";
import { RUNS, SEED, type SuiteContext } from "../common/suite";
import { type Round, runRound } from "./tracking-rounds";
import { checkFreeSpace, protectBoth, serveImage, workspaceIn } from "./tracking-setup";
import { writeTrackingResults } from "./tracking-report";
import { summarize, type TrackingResults } from "./tracking-summary";

const SIZE_SETTING = "BENCH_TRACKING_GIB";

/** The image's size from BENCH_TRACKING_GIB: GiB, fractions allowed, a whole number of MiB of at least 1. */
function imageBytes(): number {
  const text = process.env[SIZE_SETTING] ?? "16";
  const mebibytes = Number(text) * 1024;
  if (!Number.isInteger(mebibytes) || mebibytes < 1)
    throw new Error(`${SIZE_SETTING} must be a size in GiB that is a whole number of MiB (e.g. 16, 0.25), got '${text}'`);
  return mebibytes * MIB;
}

async function requireTools(log: (line: string) => void): Promise<void> {
  const missing = missingQemuTools(["qemu-storage-daemon", "qemu-io"]);
  if (missing.length) throw new Error(`the tracking bench needs ${missing.join(", ")}`);
  if (!(await ensureRsync(log))) throw new Error("the tracking bench needs rsync, its baseline");
  await fs.access("/usr/bin/time").catch(() => {
    throw new Error("the tracking bench needs GNU time at /usr/bin/time (Debian package time) to count the bytes a command read");
  });
}

export async function trackingSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const bytes = imageBytes();
  const blocks = bytes / BLOCK_BYTES;
  const ws = workspaceIn(workDir);
  await requireTools(log);
  await checkFreeSpace(workDir, bytes, SIZE_SETTING);
  const loadAtStart = os.loadavg()[0];
  const random = new Random(SEED);
  const cache = new PageCache();
  await fs.mkdir(ws.scratch, { recursive: true });

  log(`tracking: writing a ${bytes / MIB} MiB image`);
  const made = await timed(() => makeImage(ws.image, blocks, random));
  const daemon = await serveImage(ws);
  const rounds: Round[] = [];
  let initial: TrackingResults["initial"];
  try {
    log("tracking: protecting the disk in both vaults (initial replication, a full read each) and copying it for rsync");
    initial = await protectBoth(ws, daemon);
    for (let round = 1; round <= RUNS; round++) rounds.push(await runRound({ ws, daemon, blocks, random, cache, log }, round, RUNS));
  } finally {
    await daemon.stop();
  }
  const results: TrackingResults = {
    machine: describeMachine(cache),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    image: { bytes, blockBytes: BLOCK_BYTES, layout: made.value, seed: SEED, makeMs: made.ms },
    initial,
    rounds,
  };
  const comparisons = summarize(results);
  console.log(`\nChange tracking benchmark (${bytes / MIB} MiB image, ${results.machine.cache})\n\n${textTable(comparisons)}`);
  await writeTrackingResults(resultsDir, results, comparisons);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
