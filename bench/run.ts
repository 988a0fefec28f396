/**
 * Replication benchmark: `npm run bench` (BENCH_IMAGE_MIB=64 for a quick run). Measures initial replication
 * against cp, delta cycles against rsync and the peak memory of both, all in one run, and writes
 * bench/results/replication.{md,json}. Progress goes to stderr, the results table to stdout.
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureRsync } from "./baselines";
import { BLOCK_BYTES, makeImage } from "./image";
import { MIB, PageCache } from "./measure";
import { Random } from "./random";
import { benchDelta, benchIdle, benchInitial, RUNS, type BenchContext, type Workspace } from "./replication";
import { textTable, writeResults } from "./report";
import { summarize, type BenchResults } from "./summary";

const WORK_DIR = path.resolve(__dirname, "../../bench/work");
const RESULTS_DIR = path.resolve(__dirname, "../../bench/results");
/** Fixed, so every run builds the same image and makes the same changes. */
const SEED = 20260101;

function imageMiB(): number {
  const text = process.env.BENCH_IMAGE_MIB ?? "1024";
  const mib = Number(text);
  if (!Number.isInteger(mib) || mib < 1) throw new Error(`BENCH_IMAGE_MIB must be a whole number of MiB, got '${text}'`);
  return mib;
}

const log = (line: string) => console.error(`[bench] ${line}`);

function workspaceIn(dir: string): Workspace {
  return { image: path.join(dir, "disk.img"), vault: path.join(dir, "vault"), copy: path.join(dir, "disk.cp.img"), replica: path.join(dir, "disk.replica.img") };
}

async function main(): Promise<void> {
  const bytes = imageMiB() * MIB;
  const blocks = bytes / BLOCK_BYTES;
  await fs.rm(WORK_DIR, { recursive: true, force: true }); // what a crashed run left
  await fs.mkdir(WORK_DIR, { recursive: true });
  try {
    const context: BenchContext = { workspace: workspaceIn(WORK_DIR), cache: new PageCache(), random: new Random(SEED), log };
    log(`making a ${bytes / MIB} MiB image`);
    const layout = await makeImage(context.workspace.image, blocks, context.random);
    const idle = await benchIdle();
    const initial = await benchInitial(context);
    const withRsync = await ensureRsync(log);
    if (!withRsync) log("the rsync baseline is skipped");
    const delta = await benchDelta(context, blocks, withRsync);

    const cpus = os.cpus();
    const results: BenchResults = {
      machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? "unknown", node: process.version, platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(), cache: context.cache.state },
      image: { bytes, blockBytes: BLOCK_BYTES, layout, seed: SEED },
      runs: RUNS,
      idle,
      initial,
      delta,
      rsync: withRsync ? "measured" : "skipped",
    };
    const comparisons = summarize(results);
    console.log(textTable(comparisons));
    console.log(`\n${bytes / MIB} MiB image, ${results.machine.cache}, ${results.machine.cpus} CPUs, Node ${process.version}`);
    await writeResults(RESULTS_DIR, results, comparisons);
    log(`results written to ${path.relative(process.cwd(), RESULTS_DIR) || RESULTS_DIR}`);
  } finally {
    await fs.rm(WORK_DIR, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
