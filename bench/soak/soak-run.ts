/**
 * One soak measurement against a vault that is set up: the daemon probed idle, then switched to the 30 s
 * copy frequency with the writer going, warmed up until every item has a point the daemon made, measured
 * for the window, stopped, and its catalog and log read. Both soak sources (files, kvm) run through it.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { Daemon, type DaemonOptions } from "../../engine/server/launch";
import { cycleFigures, type CycleFigures, tickFigures, type TickFigures } from "./soak-cycles";
import { probe, type ProbeRound, type StatusBody } from "./soak-probe";
import { POLICY, SOAK_FREQUENCY } from "./soak-setup";
import { windowFigures } from "./soak-stats";
import type { SoakResults, SoakSettings } from "./soak-summary";
import type { WriterConfig, WriterFigures } from "./soak-writer";

/** How long the daemon may take to finish its tick and exit after SIGTERM. */
const STOP_TIMEOUT_MS = 10 * 60_000;

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

export interface SoakRunOptions {
  vault: string;
  logFile: string;
  names: string[];
  settings: SoakSettings;
  writer: WriterConfig;
  copyFrequencyMs: number;
  /** Profiling options for the daemon (BENCH_SOAK_CPU_PROF). */
  daemon?: Partial<DaemonOptions>;
  /** Called as the measured window begins (after the warm-up), e.g. to start the SQL trace or read other processes. */
  onWindowStart?: (daemon: Daemon) => Promise<void> | void;
  /** Called as the window ends, before the daemon stops. */
  onWindowEnd?: () => Promise<void> | void;
  log: (line: string) => void;
}

export interface SoakRun {
  idle: ProbeRound[];
  warmup: SoakResults["warmup"];
  rounds: ProbeRound[];
  loadAtWindow: number;
  window: { start: number; end: number };
  writerFigures: WriterFigures | null;
  daemonExit: SoakResults["daemonExit"];
  cycles: CycleFigures;
  ticks: TickFigures;
}

export async function runSoak(options: SoakRunOptions): Promise<SoakRun> {
  const { settings, log } = options;
  const daemon = await Daemon.start({ vault: options.vault, logFile: options.logFile, ...options.daemon });
  log(`daemon pid ${daemon.pid} at ${daemon.url}; probing it idle for ${settings.idleSeconds} s`);
  let writer: ReturnType<typeof startWriter> | undefined;
  let writerFigures: WriterFigures | null = null;
  let daemonExit: SoakResults["daemonExit"] | undefined;
  let measured: Pick<SoakRun, "idle" | "warmup" | "rounds" | "loadAtWindow">;
  try {
    const idle = await probe(daemon, options.names, settings.idleSeconds * 1000);
    const switchedAt = Date.now();
    await daemon.call("PATCH", `/v1/policies/${POLICY}`, { copyFrequency: SOAK_FREQUENCY });
    writer = startWriter(options.writer);
    log(`policy at ${SOAK_FREQUENCY}, writer started; warming up until every item has a point from the daemon`);
    const warmup = await warmUp(daemon, switchedAt, settings.warmupMaxSeconds, log);
    const loadAtWindow = os.loadavg()[0];
    log(`measuring for ${settings.minutes} min (load average ${loadAtWindow.toFixed(2)})`);
    await options.onWindowStart?.(daemon);
    const rounds = await probe(daemon, options.names, settings.minutes * 60_000, (so) => {
      const minute = windowFigures(so.slice(-60));
      log(
        `  ${Math.round(so.length / 60)} min: RPO p99 ${minute.rpoSeconds.p99} s, max ${minute.rpoSeconds.max} s, CPU ${minute.cpuPercent.toFixed(0)}%, RSS ${(minute.rssKiB.mean / 1024).toFixed(0)} MiB, status p99 ${minute.statusMs.p99?.toFixed(0)} ms, load ${os.loadavg()[0].toFixed(2)}`,
      );
    });
    await options.onWindowEnd?.();
    measured = { idle, warmup, rounds, loadAtWindow };
  } finally {
    writerFigures = (await writer?.stop()) ?? null;
    log("stopping the daemon (it finishes its tick first)");
    daemonExit = await daemon.stop(STOP_TIMEOUT_MS);
  }
  const { rounds } = measured;
  const window = { start: rounds[0].t, end: rounds[rounds.length - 1].t };
  log("reading the catalog and the daemon's log");
  const cycles = await cycleFigures(options.vault, options.names, window, options.copyFrequencyMs);
  const ticks = await tickFigures(options.logFile, window);
  return { ...measured, window, writerFigures, daemonExit, cycles, ticks };
}
