/** Percentiles and the per-window figures the soak reports, from the probe's rounds. */
import { mean } from "../common/measure";
import { machineRates, processRates } from "./soak-proc";
import type { ProbeRound } from "./soak-probe";

/** Nearest-rank percentile (p in 0..100) of the values; null for none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface Distribution {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function distribution(values: number[]): Distribution {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : null,
    mean: values.length ? mean(values) : null,
  };
}

export interface WindowFigures {
  seconds: number;
  rounds: number;
  /** Every item's RPO in every round, in seconds. */
  rpoSeconds: Distribution;
  /** Samples of items that had no point yet, and rounds whose status read failed. */
  rpoMissing: number;
  statusFailed: number;
  statusMs: Distribution;
  itemMs: Distribution;
  healthzMs: Distribution;
  /** Daemon CPU over the whole window, as % of one core (divide by the CPUs for % of the machine). */
  cpuPercent: number;
  /** Of cpuPercent: in the kernel, and on the main thread (the event loop). */
  systemPercent: number;
  mainThreadPercent: number;
  /** Per-round daemon CPU, % of one core. */
  cpuPercentPerSecond: Distribution;
  rssKiB: { mean: number; peak: number; firstKiB: number; lastKiB: number };
  /** The kernel's high-water mark of the daemon's RSS at the window's end: since the daemon started. */
  hwmKiB: number;
  /** Over the window: what the daemon read through read(2), and what of it came from the device. */
  readMiBs: number;
  diskReadMiBs: number;
  machineBusyPercent: number;
  machineIowaitPercent: number;
}

const defined = <T>(values: Array<T | null>): T[] => values.filter((v): v is T => v !== null);

export function windowFigures(rounds: ProbeRound[]): WindowFigures {
  const first = rounds[0];
  const last = rounds[rounds.length - 1];
  const rpo: number[] = [];
  let rpoMissing = 0;
  for (const round of rounds) {
    for (const value of round.rpo?.values() ?? []) {
      if (value === null) rpoMissing++;
      else rpo.push(value);
    }
  }
  const perSecond = rounds.slice(1).map((r, i) => processRates(rounds[i].process, r.process).cpuPercent);
  const rss = rounds.map((r) => r.process.rssKiB);
  const overall = processRates(first.process, last.process);
  const machine = machineRates(first.machine, last.machine);
  return {
    seconds: (last.t - first.t) / 1000,
    rounds: rounds.length,
    rpoSeconds: distribution(rpo),
    rpoMissing,
    statusFailed: rounds.filter((r) => r.statusMs === null).length,
    statusMs: distribution(defined(rounds.map((r) => r.statusMs))),
    itemMs: distribution(defined(rounds.map((r) => r.itemMs))),
    healthzMs: distribution(defined(rounds.map((r) => r.healthzMs))),
    cpuPercent: overall.cpuPercent,
    systemPercent: overall.systemPercent,
    mainThreadPercent: overall.mainThreadPercent,
    cpuPercentPerSecond: distribution(perSecond),
    rssKiB: { mean: mean(rss), peak: Math.max(...rss), firstKiB: rss[0], lastKiB: rss[rss.length - 1] },
    hwmKiB: last.process.hwmKiB,
    readMiBs: overall.readMiBs,
    diskReadMiBs: overall.diskReadMiBs,
    machineBusyPercent: machine.busyPercent,
    machineIowaitPercent: machine.iowaitPercent,
  };
}

/** The window cut into minutes (the last may be shorter), to show whether RPO holds steady or keeps growing. */
export function perMinute(rounds: ProbeRound[]): WindowFigures[] {
  const minutes: WindowFigures[] = [];
  const start = rounds[0]?.t ?? 0;
  for (let from = 0; ; from++) {
    // Rates run from the minute's first round to its last: 59 of its 60 seconds.
    const slice = rounds.filter((r) => r.t >= start + from * 60_000 && r.t < start + (from + 1) * 60_000);
    if (slice.length < 2) break;
    minutes.push(windowFigures(slice));
  }
  return minutes;
}
