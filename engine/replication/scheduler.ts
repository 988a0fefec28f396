import type { Vault } from "../vault";
import { replicateWindow } from "./cycle";
import { resumeInitialReplication } from "./protect";
import { resync } from "./resync";
import { recordFailure } from "./retry";
import { applyRetention, expiredPoints, type RetentionResult } from "./retention";
import { dueWork, scheduledItems } from "./due";
import { agentHostOf } from "../agents/hosts";

export interface TickReport {
  replicated: string[];
  initialReplications: string[];
  resyncs: string[];
  failed: Array<{ item: string; code: string; message: string }>;
  retention: RetentionResult | null;
}

/**
 * One pass of the scheduler (the daemon calls it every second; tests call it after moving the clock):
 * initial replications whose start has come, replication windows due on their copy frequency (one per
 * replication group), resyncs inside their window, then retention. Machines on hosts with an agent are
 * the agent's: it asks for their work (agents/work.ts).
 */
export async function tick(vault: Vault): Promise<TickReport> {
  const report: TickReport = { replicated: [], initialReplications: [], resyncs: [], failed: [], retention: null };
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
  return report;
}
