/** Everything one soak run measured (soak.json), what it says against the target, and whether the run is valid. */
import type { ImageLayout } from "../common/image";
import { MIB, type MachineInfo } from "../common/measure";
import type { CycleFigures, TickFigures, VaultFigures } from "./soak-cycles";
import type { DaemonExit } from "../../engine/server/launch";
import type { ThreadProfile } from "./soak-profile";
import type { SqlTrace } from "./soak-sqltrace";
import type { ProtectSetup, ReadBaselines } from "./soak-setup";
import type { WindowFigures } from "./soak-stats";
import type { WriterConfig, WriterFigures } from "./soak-writer";

export interface SoakSettings {
  items: number;
  diskMiB: number;
  minutes: number;
  /** The longest the suite waits for the daemon's first pass over every item before it measures anyway. */
  warmupMaxSeconds: number;
  /** How long the idle daemon (no cycle due) is probed for the baselines. */
  idleSeconds: number;
  cpuProfile: boolean;
}

/** The target: p99 RPO at most this many seconds, on a valid run. */
export const TARGET_P99_RPO_SECONDS = 60;

export interface SoakResults {
  machine: MachineInfo;
  /** The engine measured: the commit, and whether engine/ had uncommitted changes (work in progress) then. */
  source: { commit: string; uncommittedEngineFiles: number };
  settings: SoakSettings;
  disks: { items: number; bytesEach: number; blockBytes: number; layout: ImageLayout; seed: number };
  writer: { config: Omit<WriterConfig, "disks">; figures: WriterFigures | null };
  copyFrequencySeconds: number;
  /** 1-minute load average when the suite started, when the window began, and when it ended. */
  loadAverage: { start: number; windowStart: number; end: number };
  setup: { imagesMs: number; protect: ProtectSetup };
  baselines: ReadBaselines;
  /** The daemon with no cycle due (the policy at 15 min), before the soak starts. */
  idle: WindowFigures;
  warmup: { seconds: number; complete: boolean; itemsWithoutDaemonPoint: number };
  window: { start: string; end: string; figures: WindowFigures; minutes: WindowFigures[] };
  cycles: CycleFigures;
  ticks: TickFigures;
  vaultAfter: VaultFigures;
  daemonExit: DaemonExit;
  /** With BENCH_SOAK_CPU_PROF=1: the daemon's CPU profile (its whole life), and its SQLite statements timed over the window. */
  profile: ThreadProfile[] | null;
  sqlTrace: SqlTrace | null;
}

export interface Verdict {
  /** False when items did not replicate (or could not be read): then no RPO figure stands. */
  valid: boolean;
  targetMet: boolean;
  problems: string[];
  notes: string[];
}

const rate = (bytes: number, ms: number) => bytes / MIB / (ms / 1000);

export function verdictOf(results: SoakResults): Verdict {
  const { window, cycles, ticks, warmup, daemonExit } = results;
  const problems: string[] = [];
  const notes: string[] = [];
  const none = cycles.pointsPerItem.itemsWithNone;
  if (none.length)
    problems.push(
      `${none.length} of ${results.disks.items} items made no recovery point in the window (${none.slice(0, 10).join(", ")}${none.length > 10 ? ", ..." : ""})`,
    );
  if (window.figures.rpoMissing) problems.push(`${window.figures.rpoMissing} RPO samples were of items with no point at all`);
  if (window.figures.rpoSeconds.count === 0) problems.push("no status read succeeded, so no RPO was sampled");
  if (window.figures.statusFailed) notes.push(`${window.figures.statusFailed} of ${window.figures.rounds} status reads failed or took over 30 s`);
  if (ticks.failures) notes.push(`the daemon logged ${ticks.failures} failed cycles or scheduler errors in the window`);
  if (!warmup.complete)
    notes.push(
      `the daemon's first pass had not reached ${warmup.itemsWithoutDaemonPoint} items after ${warmup.seconds.toFixed(0)} s of warm-up; measured anyway`,
    );
  if (daemonExit.killed) notes.push("the daemon did not stop within the time allowed and was killed");
  const { device, bytes } = results.baselines;
  const needed = rate(bytes, results.copyFrequencySeconds * 1000);
  if (device && needed > rate(device.bytes, device.ms)) {
    const cached = window.figures.readMiBs > 0 ? 100 * (1 - window.figures.diskReadMiBs / window.figures.readMiBs) : 0;
    notes.push(
      `the copy frequency needs ${needed.toFixed(0)} MiB/s of reads, more than the device alone gives (${rate(device.bytes, device.ms).toFixed(0)} MiB/s): ` +
        `the result holds while the page cache serves most reads (${cached.toFixed(0)}% of the daemon's here)`,
    );
  }
  const p99 = window.figures.rpoSeconds.p99;
  const valid = problems.length === 0;
  return { valid, targetMet: valid && p99 !== null && p99 <= TARGET_P99_RPO_SECONDS, problems, notes };
}

/** One line of the results table; numbers are kept for soak.json, text for the table. */
export interface SoakRow {
  measure: string;
  ours: number | null;
  baselineName: string;
  baseline: number | null;
  /** ours / baseline. */
  ratio: number | null;
  unit: "s" | "ms" | "MiB/s" | "MiB" | "% of one core" | "points";
  target?: string;
  met?: boolean;
}

function row(
  measure: string,
  unit: SoakRow["unit"],
  ours: number | null,
  baselineName: string,
  baseline: number | null,
  target?: { text: string; met: boolean },
): SoakRow {
  const ratio = ours !== null && baseline ? ours / baseline : null;
  return { measure, ours, baselineName, baseline, ratio, unit, ...(target ? { target: target.text, met: target.met } : {}) };
}

export function soakRows(results: SoakResults, verdict: Verdict): SoakRow[] {
  const { window, idle, baselines, cycles, copyFrequencySeconds: freq } = results;
  const w = window.figures;
  const copyFrequency = "copy frequency";
  const catMiBs = rate(baselines.bytes, baselines.catMs);
  const idleDaemon = "idle daemon (no cycle due)";
  const p99 = w.rpoSeconds.p99;
  return [
    row("RPO p99, every item sampled each second", "s", p99, copyFrequency, freq, {
      text: `<= ${TARGET_P99_RPO_SECONDS} s on a valid run`,
      met: verdict.targetMet,
    }),
    row("RPO p50", "s", w.rpoSeconds.p50, copyFrequency, freq),
    row("RPO max", "s", w.rpoSeconds.max, copyFrequency, freq),
    row("Recovery points per item in the window, fewest", "points", cycles.pointsPerItem.min, "on time at the copy frequency", cycles.pointsExpectedPerItem, {
      text: ">= 1 for every item",
      met: cycles.pointsPerItem.itemsWithNone.length === 0,
    }),
    row("Recovery points per item in the window, mean", "points", cycles.pointsPerItem.mean, "on time at the copy frequency", cycles.pointsExpectedPerItem),
    row("Read rate the copy frequency needs (all disks every 30 s)", "MiB/s", rate(baselines.bytes, freq * 1000), "cat of every image", catMiBs),
    row(
      "Read rate the copy frequency needs, against the device alone",
      "MiB/s",
      rate(baselines.bytes, freq * 1000),
      "dd iflag=direct (no page cache)",
      baselines.device && rate(baselines.device.bytes, baselines.device.ms),
    ),
    row("Read rate the daemon achieved in the window", "MiB/s", w.readMiBs, "cat of every image", catMiBs),
    row(
      "Read + xxh64 of every image in one Node process (engine's reader)",
      "MiB/s",
      rate(baselines.bytes, baselines.readHashMs),
      "cat of every image",
      catMiBs,
    ),
    row("Daemon CPU, mean over the window", "% of one core", w.cpuPercent, idleDaemon, idle.cpuPercent),
    row("Daemon RSS, peak in the window", "MiB", w.rssKiB.peak / 1024, idleDaemon, idle.rssKiB.peak / 1024),
    row("Daemon RSS, mean in the window", "MiB", w.rssKiB.mean / 1024, idleDaemon, idle.rssKiB.mean / 1024),
    row("GET /v1/status latency p50", "ms", w.statusMs.p50, idleDaemon, idle.statusMs.p50),
    row("GET /v1/status latency p99", "ms", w.statusMs.p99, idleDaemon, idle.statusMs.p99),
    row("GET /v1/items/:item latency p99", "ms", w.itemMs.p99, idleDaemon, idle.itemMs.p99),
    row("GET /healthz latency p99 (event-loop delay)", "ms", w.healthzMs.p99, idleDaemon, idle.healthzMs.p99),
  ];
}
