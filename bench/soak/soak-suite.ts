/**
 * Soak suite: BENCH_SOAK_ITEMS machines (default 100) with one BENCH_SOAK_DISK_MIB disk each (256), under
 * continuous light writes, replicated by one `lifeboat serve` at the 30 s copy frequency for
 * BENCH_SOAK_MINUTES (10): RPO p50/p99/max of every item sampled each second, the daemon's CPU and memory,
 * and status-read latency. BENCH_SOAK_CPU_PROF=1 also profiles the daemon. Writes soak.{md,json}.
 * A quick try: BENCH_SOAK_ITEMS=10 BENCH_SOAK_DISK_MIB=64 BENCH_SOAK_MINUTES=2.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COPY_FREQUENCY_MS } from "../../schema";
import { BLOCK_BYTES } from "../common/image";
import { describeMachine, MIB, PageCache, runCommand, timed } from "../common/measure";
import { Random } from "../common/random";
import { cycleFigures, tickFigures, vaultFigures } from "./soak-cycles";
import { Daemon } from "../../engine/server/launch";
import { probe, type StatusBody } from "./soak-probe";
import { analyzeProfiles } from "./soak-profile";
import type { SqlTrace } from "./soak-sqltrace";
import { writeSoakResults, rowsTable } from "./soak-report";
import { makeDisks, POLICY, protectAll, readBaselines, SOAK_FREQUENCY } from "./soak-setup";
import { perMinute, windowFigures } from "./soak-stats";
import { soakRows, verdictOf, type SoakResults, type SoakSettings } from "./soak-summary";
import type { WriterConfig, WriterFigures } from "./soak-writer";
import { mibFromEnv, SEED, type SuiteContext } from "../common/suite";

/** Writes per disk per interval, their size and the interval: light, continuous writes (about 3 KiB/s a disk). */
const WRITER = { intervalMs: 5000, writesPerDisk: 4, writeBytes: 4096 };
/** How long the daemon may take to finish its tick and exit after SIGTERM. */
const STOP_TIMEOUT_MS = 10 * 60_000;

/** A positive number from the environment, or the default when unset. */
function numberFromEnv(name: string, fallback: number, whole: boolean): number {
  const text = process.env[name] ?? String(fallback);
  const value = Number(text);
  if (!(value > 0) || (whole && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${whole ? "whole " : ""}number, got '${text}'`);
  return value;
}

function soakSettings(): SoakSettings {
  return {
    items: numberFromEnv("BENCH_SOAK_ITEMS", 100, true),
    diskMiB: mibFromEnv("BENCH_SOAK_DISK_MIB", 256),
    minutes: numberFromEnv("BENCH_SOAK_MINUTES", 10, false),
    warmupMaxSeconds: numberFromEnv("BENCH_SOAK_WARMUP_MAX_S", 300, false),
    idleSeconds: numberFromEnv("BENCH_SOAK_IDLE_S", 30, false),
    cpuProfile: process.env.BENCH_SOAK_CPU_PROF === "1",
  };
}

/** Images, plus a vault of about half their size, plus room to spare. */
async function checkSpace(dir: string, settings: SoakSettings): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  const needed = settings.items * settings.diskMiB * MIB * 1.6;
  if (free < needed) throw new Error(`the soak needs about ${(needed / 2 ** 30).toFixed(1)} GiB free under ${dir}; ${(free / 2 ** 30).toFixed(1)} GiB are`);
}

async function sourceState(): Promise<SoakResults["source"]> {
  const root = path.resolve(__dirname, "../../..");
  const git = (args: string[]) =>
    runCommand("git", ["-C", root, ...args]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
  const commit = (await git(["rev-parse", "--short", "HEAD"])) || "unknown";
  const dirty = await git(["status", "--porcelain", "--", "engine"]);
  return { commit, uncommittedEngineFiles: dirty ? dirty.split("\n").length : 0 };
}

/** The writer child: runs until stopped, then reports its figures. */
function startWriter(config: WriterConfig) {
  const child = spawn(process.execPath, [path.join(__dirname, "soak-writer.js"), JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return {
    async stop(): Promise<WriterFigures | null> {
      child.kill("SIGTERM");
      await exited;
      try {
        return JSON.parse(stdout.trim().split("\n").pop() ?? "") as WriterFigures;
      } catch {
        return null;
      }
    },
  };
}

/** Poll the status until every item has a point captured after `since` (the daemon's first pass), or the time is up. */
async function warmUp(daemon: Daemon, since: number, maxSeconds: number, log: (line: string) => void): Promise<SoakResults["warmup"]> {
  const start = Date.now();
  let behind = Infinity;
  while (Date.now() - start < maxSeconds * 1000) {
    const status = await daemon.call<StatusBody>("GET", "/v1/status").catch(() => null);
    if (status) {
      const left = status.items.filter((i) => !i.latestPoint || Date.parse(i.latestPoint.capturedAt) < since).length;
      if (left !== behind && left % 10 === 0) log(`  warm-up: ${status.items.length - left} of ${status.items.length} items have a point from the daemon`);
      behind = left;
      if (left === 0) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { seconds: (Date.now() - start) / 1000, complete: behind === 0, itemsWithoutDaemonPoint: behind === Infinity ? -1 : behind };
}

export async function soakSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const settings = soakSettings();
  const bytesEach = settings.diskMiB * MIB;
  const blocks = bytesEach / BLOCK_BYTES;
  const copyFrequencyMs = COPY_FREQUENCY_MS[SOAK_FREQUENCY];
  await checkSpace(workDir, settings);
  const loadAtStart = os.loadavg()[0];
  const vault = path.join(workDir, "vault");
  const logFile = path.join(workDir, "daemon.log");
  const profileDir = path.join(workDir, "cpu-profile");
  const sqlTraceFile = path.join(workDir, "sql-trace.json");

  log(`soak: ${settings.items} machines × ${settings.diskMiB} MiB, ${settings.minutes} min at ${SOAK_FREQUENCY}; making images`);
  const { ms: imagesMs, value: disks } = await timed(() => makeDisks(path.join(workDir, "images"), settings.items, blocks, new Random(SEED), log));
  log("protecting every machine (initial replication; setup, not measured)");
  const protect = await protectAll(vault, disks, log);
  log("baselines: cat, and read + xxh64 in process, of every image");
  const baselines = await readBaselines(disks.images, bytesEach);

  if (settings.cpuProfile) await fs.mkdir(profileDir);
  const profiling = settings.cpuProfile
    ? { cpuProfileDir: profileDir, preload: [path.join(__dirname, "soak-sqltrace.js")], env: { SOAK_SQL_TRACE_FILE: sqlTraceFile } }
    : {};
  const daemon = await Daemon.start({ vault, logFile, ...profiling });
  log(`daemon pid ${daemon.pid} at ${daemon.url}; probing it idle for ${settings.idleSeconds} s`);
  let writer: ReturnType<typeof startWriter> | undefined;
  let writerFigures: WriterFigures | null = null;
  let daemonExit: SoakResults["daemonExit"] | undefined;
  let measured: { idle: Awaited<ReturnType<typeof probe>>; warmup: SoakResults["warmup"]; rounds: Awaited<ReturnType<typeof probe>>; loadAtWindow: number };
  const writerConfig = { diskBytes: bytesEach, ...WRITER, seed: SEED + 1 };
  try {
    const idle = await probe(daemon, disks.names, settings.idleSeconds * 1000);
    const switchedAt = Date.now();
    await daemon.call("PATCH", `/v1/policies/${POLICY}`, { copyFrequency: SOAK_FREQUENCY });
    writer = startWriter({ disks: disks.images, ...writerConfig });
    log(`policy at ${SOAK_FREQUENCY}, writer started; warming up until every item has a point from the daemon`);
    const warmup = await warmUp(daemon, switchedAt, settings.warmupMaxSeconds, log);
    const loadAtWindow = os.loadavg()[0];
    log(`measuring for ${settings.minutes} min`);
    if (settings.cpuProfile) daemon.signal("SIGUSR2"); // the SQL trace counts from here
    const rounds = await probe(daemon, disks.names, settings.minutes * 60_000, (so) => {
      const minute = windowFigures(so.slice(-60));
      log(
        `  ${Math.round(so.length / 60)} min: RPO p99 ${minute.rpoSeconds.p99} s, max ${minute.rpoSeconds.max} s, CPU ${minute.cpuPercent.toFixed(0)}%, RSS ${(minute.rssKiB.mean / 1024).toFixed(0)} MiB, status p99 ${minute.statusMs.p99?.toFixed(0)} ms`,
      );
    });
    measured = { idle, warmup, rounds, loadAtWindow };
  } finally {
    writerFigures = (await writer?.stop()) ?? null;
    log("stopping the daemon (it finishes its tick first)");
    daemonExit = await daemon.stop(STOP_TIMEOUT_MS);
  }

  const { rounds } = measured;
  const window = { start: rounds[0].t, end: rounds[rounds.length - 1].t };
  log("reading the catalog and the daemon's log");
  const cycles = await cycleFigures(vault, disks.names, window, copyFrequencyMs);
  const ticks = await tickFigures(logFile, window);
  const profile = settings.cpuProfile ? await analyzeProfiles(profileDir) : null;
  const sqlTrace = settings.cpuProfile ? (JSON.parse(await fs.readFile(sqlTraceFile, "utf8")) as SqlTrace) : null;

  const results: SoakResults = {
    machine: describeMachine(new PageCache()),
    source: await sourceState(),
    settings,
    disks: { items: settings.items, bytesEach, blockBytes: BLOCK_BYTES, layout: disks.layout, seed: SEED },
    writer: { config: writerConfig, figures: writerFigures },
    copyFrequencySeconds: copyFrequencyMs / 1000,
    loadAverage: { start: loadAtStart, windowStart: measured.loadAtWindow, end: os.loadavg()[0] },
    setup: { imagesMs, protect },
    baselines,
    idle: windowFigures(measured.idle),
    warmup: measured.warmup,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
      figures: windowFigures(rounds),
      minutes: perMinute(rounds),
    },
    cycles,
    ticks,
    vaultAfter: await vaultFigures(vault),
    daemonExit,
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
