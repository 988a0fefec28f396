/**
 * Failover suite: a recovery plan of PLAN_MACHINES machines against cp of their disks, failback to the
 * original location by delta against a full download, and the peak memory of both; writes
 * failover.{md,json}. BENCH_PLAN_DISK_MIB sets every disk's size (default 1024; 64 for a quick run).
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { benchFailback, benchPlan, type FailoverContext } from "./failover";
import { writeFailoverResults } from "./failover-report";
import { summarizeFailover, type FailoverResults } from "./failover-summary";
import { BLOCK_BYTES, makeImage, type ImageLayout } from "../common/image";
import { describeMachine, MIB, PageCache } from "../common/measure";
import { Random } from "../common/random";
import { textTable } from "../common/report";
import { machineName, mibFromEnv, RUNS, SEED, type SuiteContext } from "../common/suite";
import { benchIdle } from "../common/worker-protocol";

const PLAN_MACHINES = 10;

/** One image per machine, each with its own content (drawn on from one seed), and their layouts summed. */
async function makeImages(dir: string, count: number, blocks: number, random: Random): Promise<{ images: string[]; layout: ImageLayout }> {
  await fs.mkdir(dir, { recursive: true });
  const images = Array.from({ length: count }, (_, i) => path.join(dir, `${machineName(i)}.img`));
  const layout: ImageLayout = { zero: 0, text: 0, pattern: 0, random: 0 };
  for (const image of images) {
    const counts = await makeImage(image, blocks, random);
    for (const kind of Object.keys(layout) as Array<keyof ImageLayout>) layout[kind] += counts[kind];
  }
  return { images, layout };
}

export async function failoverSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const bytesEach = mibFromEnv("BENCH_PLAN_DISK_MIB", 1024) * MIB;
  const blocks = bytesEach / BLOCK_BYTES;
  const context: FailoverContext = { dir: workDir, cache: new PageCache(), seed: SEED, log };
  const loadAtStart = os.loadavg()[0];
  log(`making ${PLAN_MACHINES} images of ${bytesEach / MIB} MiB`);
  const { images, layout } = await makeImages(path.join(workDir, "images"), PLAN_MACHINES, blocks, new Random(SEED));
  const idle = await benchIdle();
  const plan = await benchPlan(context, images);
  const failback = await benchFailback(context, images[0], blocks);

  const results: FailoverResults = {
    machine: describeMachine(context.cache),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    disks: { machines: PLAN_MACHINES, bytesEach, blockBytes: BLOCK_BYTES, layout, seed: SEED },
    runs: RUNS,
    idle,
    plan,
    failback,
  };
  const comparisons = summarizeFailover(results);
  console.log(`\nFailover benchmark\n\n${textTable(comparisons)}`);
  console.log(`\n${PLAN_MACHINES} × ${bytesEach / MIB} MiB disks, ${results.machine.cache}, ${results.machine.cpus} CPUs, Node ${process.version}`);
  await writeFailoverResults(resultsDir, results, comparisons);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
