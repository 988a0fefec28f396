import type { Vault } from "../vault";
import { replicateWindow } from "./cycle";
import { resumeInitialReplication } from "./protect";
import { resync } from "./resync";
import { recordFailure } from "./retry";
import { applyRetention, expiredPoints, type RetentionResult } from "./retention";
import { dueWork, scheduledItems } from "./due";
import { agentHostOf } from "../inventory/hosts";
import { durationMs, VerifySchedule } from "../../schema";
import { verifyInBackground, verifyRunning } from "./verify";
import { verifyDue, verifyStarted } from "./verify-schedule";

export interface TickReport {
  replicated: string[];
  initialReplications: string[];
  resyncs: string[];
  failed: Array<{ item: string; code: string; message: string }>;
  retention: RetentionResult | null;
  /** A verify of the whole vault started in the background this tick: its job, and why. */
  verify: { job: string; reason: string } | null;
}

/** How the scheduler scrubs the vault (defaults: VerifySchedule's, weekly at 64 MiB/s). */
export interface TickOptions {
  /** null: never on a schedule (still after a StoreFull). */
  verifyIntervalMs?: number | null;
  /** 0: unthrottled. */
  verifyRateLimitMiBps?: number;
}

const DEFAULT_SCHEDULE = VerifySchedule.parse({});
const DEFAULTS: Required<TickOptions> = {
  verifyIntervalMs: durationMs(DEFAULT_SCHEDULE.verifyInterval),
  verifyRateLimitMiBps: DEFAULT_SCHEDULE.verifyRateLimit,
};

/**
 * One pass of the scheduler (the daemon calls it every second; tests call it after moving the clock):
 * initial replications whose start has come, replication windows due on their copy frequency (one per
 * replication group), resyncs inside their window, then retention, then a verify of the whole vault when
 * one is due (on its interval, or once the store takes writes again after a StoreFull). The verify runs on
 * in the background, throttled, so cycles go on meanwhile. Machines on hosts with an agent are the
 * agent's: it asks for their work (agents/work.ts).
 */
export async function tick(vault: Vault, options: TickOptions = {}): Promise<TickReport> {
  const { verifyIntervalMs, verifyRateLimitMiBps } = { ...DEFAULTS, ...options };
  const report: TickReport = { replicated: [], initialReplications: [], resyncs: [], failed: [], retention: null, verify: null };
  const rows = [];
  for (const row of await scheduledItems(vault)) if (!(await agentHostOf(vault, row))) rows.push(row);
  const due = dueWork(rows, vault.clock.now());
  for (const row of due.initial) {
    await vault.lock.run(() => resumeInitialReplication(vault, row));
    report.initialReplications.push(row.name);
  }
  for (const row of due.resync) {
    await vault.lock.run(() => resync(vault, row));
    report.resyncs.push(row.name);
  }
  for (const { items, appConsistent } of due.cycles) {
    try {
      await vault.lock.run(() => replicateWindow(vault, items, { appConsistent }));
      report.replicated.push(...items.map((r) => r.name));
    } catch (error) {
      const e = await recordFailure(vault, items, error);
      report.failed.push(...items.map((r) => ({ item: r.name, code: e.code, message: e.message })));
    }
  }
  if ((await expiredPoints(vault)).length) report.retention = await vault.lock.run(() => applyRetention(vault));
  const reason = verifyRunning(vault) ? null : await verifyDue(vault, verifyIntervalMs);
  if (reason) {
    await vault.lock.run(() => verifyStarted(vault));
    const job = await verifyInBackground(vault, { points: "all", rateLimitMiBps: verifyRateLimitMiBps || undefined });
    if (job) report.verify = { job, reason };
  }
  return report;
}
