import type { Vault } from "../vault";
import { HOUR } from "../clock";
import { COPY_FREQUENCY_MS, type CopyFrequency } from "../../schema";
import type { ItemRow } from "../inventory/items";
import { replicateWindow } from "./cycle";
import { resumeInitialReplication } from "./protect";
import { resync } from "./resync";
import { recordFailure } from "./retry";
import { applyRetention, expiredPoints, type RetentionResult } from "./retention";
import { inWindow } from "./resync-window";

export interface TickReport {
  replicated: string[];
  initialReplications: string[];
  resyncs: string[];
  failed: Array<{ item: string; code: string; message: string }>;
  retention: RetentionResult | null;
}

/** Whether an item may be attempted now: not waiting out a back-off, not stopped by a non-recoverable error. */
const mayAttempt = (item: ItemRow, now: number) => (item.error_code === null || item.error_recoverable === 1) && (item.next_attempt_at === null || item.next_attempt_at <= now);

/**
 * One pass of the scheduler (the daemon calls it every second; tests call it after moving the clock):
 * initial replications whose start has come, replication windows due on their copy frequency (one per
 * replication group), resyncs inside their window, then retention.
 */
export async function tick(vault: Vault): Promise<TickReport> {
  const report: TickReport = { replicated: [], initialReplications: [], resyncs: [], failed: [], retention: null };
  const now = vault.clock.now();
  const rows = await vault.db
    .selectFrom("items")
    .innerJoin("policies", "policies.id", "items.policy_id")
    .selectAll("items")
    .select(["policies.copy_frequency", "policies.app_consistent_hours", "policies.initial_replication_start", "policies.resync_start", "policies.resync_end"])
    .orderBy("items.id")
    .execute();

  const units = new Map<string, typeof rows>();
  for (const row of rows) {
    // Replication runs while a machine is protected in either direction, not between failover and reprotect.
    if (!mayAttempt(row, now) || (row.failover_state !== null && row.failover_state !== "Reprotected")) continue;
    if (row.state === "InitialReplicationPending" && (row.initial_replication_start ?? 0) <= now) {
      await vault.lock.run(() => resumeInitialReplication(vault, row));
      report.initialReplications.push(row.name);
    } else if (row.state === "ResyncRequired" && inWindow(now, { start: row.resync_start, end: row.resync_end })) {
      await vault.lock.run(() => resync(vault, row));
      report.resyncs.push(row.name);
    } else if (row.state === "Protected" && now - (row.last_attempt_at ?? 0) >= COPY_FREQUENCY_MS[row.copy_frequency as CopyFrequency]) {
      const key = row.group_name ? `group:${row.group_name}` : `item:${row.id}`;
      units.set(key, [...(units.get(key) ?? []), row]);
    }
  }
  for (const unit of units.values()) {
    const appConsistent = unit.some((r) => r.app_consistent_hours > 0 && now - (r.last_app_point_at ?? 0) >= r.app_consistent_hours * HOUR);
    try {
      await vault.lock.run(() => replicateWindow(vault, unit, { appConsistent }));
      report.replicated.push(...unit.map((r) => r.name));
    } catch (error) {
      const e = await recordFailure(vault, unit, error);
      report.failed.push(...unit.map((r) => ({ item: r.name, code: e.code, message: e.message })));
    }
  }
  if ((await expiredPoints(vault)).length) report.retention = await vault.lock.run(() => applyRetention(vault));
  return report;
}
