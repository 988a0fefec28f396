import type { Vault } from "../vault";
import { replicateWindow, WindowDiscarded } from "./cycle";
import { classify, EngineError } from "../errors";
import { PoolStopped } from "../workers/cycle-pool";
import { resumeInitialReplication } from "./protect";
import { resync } from "./resync";
import { recordFailure } from "./retry";
import { applyRetention, expiredPoints, type RetentionResult } from "./retention";
import { dueWork, scheduledItems, type ScheduledItem } from "./due";
import { agentHostOf } from "../inventory/hosts";
import { CycleSettings, durationMs, VerifySchedule } from "../../schema";
import { verifyInBackground, verifyRunning } from "./verify";
import { verifyDue, verifyStarted } from "./verify-schedule";

export interface TickReport {
  replicated: string[];
  initialReplications: string[];
  resyncs: string[];
  failed: Array<{ item: string; code: string; message: string }>;
  /** Windows read but not recorded because their item or disks moved on meanwhile (WindowDiscarded). */
  skipped: Array<{ item: string; reason: string }>;
  retention: RetentionResult | null;
  /** A verify of the whole vault started in the background this tick: its job, and why. */
  verify: { job: string; reason: string } | null;
}

/** What one unit of work (a window, an initial replication, a resync) reports when it ends. */
export type UnitReport = Pick<TickReport, "replicated" | "initialReplications" | "resyncs" | "failed" | "skipped">;

/** How the scheduler scrubs the vault (defaults: VerifySchedule's, weekly at 64 MiB/s) and runs cycles (CycleSettings'). */
export interface TickOptions {
  /** null: never on a schedule (still after a StoreFull). */
  verifyIntervalMs?: number | null;
  /** 0: unthrottled. */
  verifyRateLimitMiBps?: number;
  /** Units of work running at once. */
  maxCycles?: number;
  /** A window still reading after this long is abandoned and fails with DeadlineExceeded. */
  cycleDeadlineMs?: number;
  /**
   * Return once the due work is started, without waiting for it (the daemon's loop); each unit's report
   * goes to onSettled when it ends. Otherwise (tests) the tick returns when the work it started is done.
   */
  background?: boolean;
  onSettled?: (report: UnitReport) => void;
}

const DEFAULT_SCHEDULE = VerifySchedule.parse({});
const DEFAULT_CYCLES = CycleSettings.parse({});
const DEFAULTS: Required<Omit<TickOptions, "onSettled">> = {
  verifyIntervalMs: durationMs(DEFAULT_SCHEDULE.verifyInterval),
  verifyRateLimitMiBps: DEFAULT_SCHEDULE.verifyRateLimit,
  maxCycles: DEFAULT_CYCLES.maxCycles,
  cycleDeadlineMs: durationMs(DEFAULT_CYCLES.cycleDeadline),
  background: false,
};

/**
 * One pass of the scheduler (the daemon calls it every second; tests call it after moving the clock):
 * initial replications whose start has come, replication windows due on their copy frequency (one per
 * replication group) and resyncs inside their window go to the vault's pool, which runs a few at once
 * and never two for one item; then retention, then a verify of the whole vault when one is due (on its
 * interval, or once the store takes writes again after a StoreFull). Windows read their disks without
 * the vault lock and take it only to record, so agents, API calls and the other windows go on meanwhile;
 * initial replications and resyncs read without it too and take it for each write. The verify runs on in the background,
 * throttled. Machines on hosts with an agent are the agent's: it asks for their work (agents/work.ts).
 */
export async function tick(vault: Vault, options: TickOptions = {}): Promise<TickReport> {
  const { verifyIntervalMs, verifyRateLimitMiBps, maxCycles, cycleDeadlineMs, background } = { ...DEFAULTS, ...options };
  const report: TickReport = { ...emptyUnit(), retention: null, verify: null };
  const rows = [];
  for (const row of await scheduledItems(vault)) if (!(await agentHostOf(vault, row))) rows.push(row);
  const due = dueWork(rows, vault.clock.now());
  const pool = vault.cycles;
  pool.limit = maxCycles;
  const units: Array<{ items: ScheduledItem[]; what: string; run: (signal: AbortSignal) => Promise<UnitReport> }> = [
    ...due.initial.map((row) => ({
      items: [row],
      what: `the initial replication of '${row.name}'`,
      run: async () => {
        // The full read runs without the vault lock; each write takes it (agents and other cycles go on meanwhile).
        await resumeInitialReplication(vault, row, (body) => vault.lock.run(body));
        return { ...emptyUnit(), initialReplications: [row.name] };
      },
    })),
    ...due.resync.map((row) => ({
      items: [row],
      what: `the resync of '${row.name}'`,
      run: async () => {
        await resync(vault, row, (body) => vault.lock.run(body));
        return { ...emptyUnit(), resyncs: [row.name] };
      },
    })),
    ...due.cycles.map(({ items, appConsistent }) => ({
      items,
      what: `the replication cycle of ${items.map((r) => `'${r.name}'`).join(", ")}`,
      run: (signal: AbortSignal) => scheduledWindow(vault, items, appConsistent, signal),
    })),
  ];
  const started: Array<Promise<UnitReport>> = [];
  for (const unit of units) {
    const outcome = pool.submit(
      unit.items.map((r) => r.id),
      unit.what,
      cycleDeadlineMs,
      (signal) => unit.run(signal).catch((error) => failedUnit(vault, unit.items, error)),
    );
    if (!outcome) continue;
    const settled = outcome.catch(stoppedUnit(unit.items));
    void settled.then((r) => options.onSettled?.(r));
    started.push(settled);
  }
  if (!background) for (const unit of await Promise.all(started)) for (const key of UNIT_KEYS) report[key].push(...(unit[key] as never[]));
  if ((await expiredPoints(vault)).length) report.retention = await vault.lock.run(() => applyRetention(vault));
  const reason = verifyRunning(vault) ? null : await verifyDue(vault, verifyIntervalMs);
  if (reason) {
    await vault.lock.run(() => verifyStarted(vault));
    const job = await verifyInBackground(vault, { points: "all", rateLimitMiBps: verifyRateLimitMiBps || undefined });
    if (job) report.verify = { job, reason };
  }
  return report;
}

/** A scheduled window: read without the vault lock, recorded under it; a window whose item moved on is skipped. */
async function scheduledWindow(vault: Vault, items: ScheduledItem[], appConsistent: boolean, signal: AbortSignal): Promise<UnitReport> {
  try {
    await replicateWindow(vault, items, { appConsistent, signal, reading: vault.cycles.reading, recordWith: (record) => vault.lock.run(record) });
    return { ...emptyUnit(), replicated: items.map((r) => r.name) };
  } catch (error) {
    if (error instanceof WindowDiscarded || error instanceof PoolStopped)
      return { ...emptyUnit(), skipped: items.map((r) => ({ item: r.name, reason: error.message })) };
    return failedUnit(vault, items, error);
  }
}

/** Record the failure (back-off, health); a hung disk is not read again to measure what is pending. */
async function failedUnit(vault: Vault, items: ScheduledItem[], error: unknown): Promise<UnitReport> {
  if (error instanceof PoolStopped) return stoppedUnit(items)(error.message);
  const hung = error instanceof EngineError && error.code === "DeadlineExceeded";
  const e = await recordFailure(vault, items, error, { measurePending: !hung }).catch(() => classify(error)); // an item unprotected meanwhile has nothing to record
  return { ...emptyUnit(), failed: items.map((r) => ({ item: r.name, code: e.code, message: e.message })) };
}

/** A unit dropped from the queue because the process stops. */
const stoppedUnit = (items: ScheduledItem[]) => (error: unknown) => ({ ...emptyUnit(), skipped: items.map((r) => ({ item: r.name, reason: String(error) })) });

const UNIT_KEYS = ["replicated", "initialReplications", "resyncs", "failed", "skipped"] as const;
const emptyUnit = (): UnitReport => ({ replicated: [], initialReplications: [], resyncs: [], failed: [], skipped: [] });
