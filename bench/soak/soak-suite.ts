/**
 * Soak suite: BENCH_SOAK_ITEMS machines (default 100) with one BENCH_SOAK_DISK_MIB disk each (256), under
 * continuous light writes, replicated by one `lifeboat serve` at the 30 s copy frequency for
 * BENCH_SOAK_MINUTES (10): RPO p50/p99/max of every item sampled each second, the daemon's CPU and memory,
 * and status-read latency. BENCH_SOAK_CPU_PROF=1 also profiles the daemon. Writes soak.{md,json}.
 * A quick try: BENCH_SOAK_ITEMS=10 BENCH_SOAK_DISK_MIB=64 BENCH_SOAK_MINUTES=2.
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COPY_FREQUENCY_MS } from "../../schema";
import { BLOCK_BYTES } from "../common/image";
import { describeMachine, MIB, PageCache, timed } from "../common/measure";
import { Random } from "../common/random";
import { SEED, type SuiteContext } from "../common/suite";
import { vaultFigures } from "./soak-cycles";
import { kvmSoakSuite, slowDiskSuite } from "./soak-kvm-suite";
import { analyzeProfiles } from "./soak-profile";
import { rowsTable, writeSoakResults } from "./soak-report";
import { runSoak } from "./soak-run";
import { checkSpace, soakSettings, sourceState, WRITER } from "./soak-settings";
import { imageSpec, makeDisks, protectAll, readBaselines, SOAK_FREQUENCY } from "./soak-setup";
import type { SqlTrace } from "./soak-sqltrace";
import { perMinute, windowFigures } from "./soak-stats";
import { type SoakResults, soakRows, verdictOf } from "./soak-summary";

/** BENCH_SOAK_SOURCE=files (the default) or kvm; BENCH_SOAK_SLOW=1 runs the slow-disk comparison of kvm machines. */
export async function soakSuite(context: SuiteContext): Promise<void> {
  const source = process.env.BENCH_SOAK_SOURCE ?? "files";
  if (source !== "files" && source !== "kvm") throw new Error(`BENCH_SOAK_SOURCE must be files or kvm, got '${source}'`);
  if (process.env.BENCH_SOAK_SLOW === "1") return slowDiskSuite(context);
  return source === "kvm" ? kvmSoakSuite(context) : filesSoakSuite(context);
}

async function filesSoakSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const settings = soakSettings({ items: 100, diskMiB: 256 });
  const bytesEach = settings.diskMiB * MIB;
  const blocks = bytesEach / BLOCK_BYTES;
  const copyFrequencyMs = COPY_FREQUENCY_MS[SOAK_FREQUENCY];
  // Images, plus a vault of about half their size, plus room to spare.
  await checkSpace(workDir, settings.items * bytesEach * 1.6);
  const loadAtStart = os.loadavg()[0];
  const vault = path.join(workDir, "vault");
  const logFile = path.join(workDir, "daemon.log");
  const profileDir = path.join(workDir, "cpu-profile");
  const sqlTraceFile = path.join(workDir, "sql-trace.json");

  log(`soak: ${settings.items} machines × ${settings.diskMiB} MiB, ${settings.minutes} min at ${SOAK_FREQUENCY}; making images`);
  const { ms: imagesMs, value: disks } = await timed(() => makeDisks(path.join(workDir, "images"), settings.items, blocks, new Random(SEED), log));
  log("protecting every machine (initial replication; setup, not measured)");
  const protect = await protectAll(vault, disks.names, "hyperv", imageSpec(disks), log);
  log("baselines: cat, and read + xxh64 in process, of every image");
  const baselines = await readBaselines(disks.images, bytesEach);

  if (settings.cpuProfile) await fs.mkdir(profileDir);
  const profiling = settings.cpuProfile
    ? { cpuProfileDir: profileDir, preload: [path.join(__dirname, "soak-sqltrace.js")], env: { SOAK_SQL_TRACE_FILE: sqlTraceFile } }
    : {};
  const writerConfig = { diskBytes: bytesEach, ...WRITER, seed: SEED + 1 };
  const run = await runSoak({
    vault,
    logFile,
    names: disks.names,
    settings,
    writer: { disks: disks.images, ...writerConfig },
    copyFrequencyMs,
    daemon: profiling,
    // The SQL trace counts from here.
    onWindowStart: (daemon) => void (settings.cpuProfile && daemon.signal("SIGUSR2")),
    log,
  });
  const { rounds, window, cycles, ticks } = run;
  const profile = settings.cpuProfile ? await analyzeProfiles(profileDir) : null;
  const sqlTrace = settings.cpuProfile ? (JSON.parse(await fs.readFile(sqlTraceFile, "utf8")) as SqlTrace) : null;

  const results: SoakResults = {
    machine: describeMachine(new PageCache()),
    source: await sourceState(),
    settings,
    disks: { items: settings.items, bytesEach, blockBytes: BLOCK_BYTES, layout: disks.layout, seed: SEED },
    writer: { config: writerConfig, figures: run.writerFigures },
    copyFrequencySeconds: copyFrequencyMs / 1000,
    loadAverage: { start: loadAtStart, windowStart: run.loadAtWindow, end: os.loadavg()[0] },
    setup: { imagesMs, protect },
    baselines,
    idle: windowFigures(run.idle),
    warmup: run.warmup,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
      figures: windowFigures(rounds),
      minutes: perMinute(rounds),
    },
    cycles,
    ticks,
    vaultAfter: await vaultFigures(vault),
    daemonExit: run.daemonExit,
    profile,
    sqlTrace,
  };
  const verdict = verdictOf(results);
  console.log(`\nSoak benchmark: ${verdict.valid ? (verdict.targetMet ? "target met" : "target missed") : "INVALID RUN"}\n`);
  for (const line of [...verdict.problems, ...verdict.notes]) console.log(`- ${line}`);
  console.log(`\n${rowsTable(soakRows(results, verdict))}`);
  await writeSoakResults(resultsDir, results, verdict);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
