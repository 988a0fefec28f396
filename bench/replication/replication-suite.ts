/**
 * Replication suite (BENCH_IMAGE_MIB=64 for a quick run): initial replication against cp, delta cycles
 * against rsync (in process, and as whole `lifeboat sync` commands with a cold and a warm page cache) and
 * against dd's read time of the image, the peak memory of both, and initial replication and materialize
 * with encryption at rest against the same without, all in one run; writes replication.{md,json}.
 */
import * as os from "node:os";
import * as path from "node:path";
import { ensureRsync } from "../common/baselines";
import { BLOCK_BYTES, makeImage } from "../common/image";
import { describeMachine, MIB, PageCache } from "../common/measure";
import { Random } from "../common/random";
import { benchEncryption } from "./encryption";
import { benchDelta, benchInitial, type BenchContext, type Workspace } from "./replication";
import { textTable } from "../common/report";
import { writeResults } from "./replication-report";
import { mibFromEnv, RUNS, SEED, type SuiteContext } from "../common/suite";
import { benchIdle } from "../common/worker-protocol";
import { summarize, type BenchResults } from "./replication-summary";
import { benchDdRead, benchWholeCommand } from "./whole-command";

function workspaceIn(dir: string): Workspace {
  return {
    image: path.join(dir, "disk.img"),
    vault: path.join(dir, "vault"),
    copy: path.join(dir, "disk.cp.img"),
    replica: path.join(dir, "disk.replica.img"),
    materialized: path.join(dir, "materialized"),
  };
}

export async function replicationSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const bytes = mibFromEnv("BENCH_IMAGE_MIB", 1024) * MIB;
  const blocks = bytes / BLOCK_BYTES;
  const context: BenchContext = { workspace: workspaceIn(workDir), cache: new PageCache(), random: new Random(SEED), log };
  log(`making a ${bytes / MIB} MiB image`);
  const layout = await makeImage(context.workspace.image, blocks, context.random);
  const loadAtStart = os.loadavg()[0];
  const idle = await benchIdle();
  const initial = await benchInitial(context);
  const withRsync = await ensureRsync(log);
  if (!withRsync) log("the rsync baseline is skipped");
  const delta = await benchDelta(context, blocks, withRsync);
  const wholeCommand = await benchWholeCommand(context, blocks, withRsync);
  const ddRunsMs = await benchDdRead(context);
  const encryption = await benchEncryption(context);

  const results: BenchResults = {
    machine: describeMachine(context.cache),
    image: { bytes, blockBytes: BLOCK_BYTES, layout, seed: SEED },
    runs: RUNS,
    idle,
    initial,
    delta,
    wholeCommand,
    ddRunsMs,
    encryption,
    rsync: withRsync ? "measured" : "skipped",
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
  };
  const comparisons = summarize(results);
  console.log(textTable(comparisons));
  console.log(`\n${bytes / MIB} MiB image, ${results.machine.cache}, ${results.machine.cpus} CPUs, Node ${process.version}`);
  await writeResults(resultsDir, results, comparisons);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
