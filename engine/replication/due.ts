import type { Vault } from "../vault";
import { HOUR } from "../clock";
import { COPY_FREQUENCY_MS, type CopyFrequency } from "../../schema";
import type { ItemRow } from "../inventory/items";
import { inWindow } from "./resync-window";
import { failoverFlags, PROTECTION_STATES } from "../inventory/item-state";
import { itemsWithSchedule } from "../catalog/items";

/** An item with the policy settings that decide when its work is due. */
export type ScheduledItem = ItemRow & {
  copy_frequency: string;
  app_consistent_hours: number;
  initial_replication_start: number | null;
  resync_start: string;
  resync_end: string;
};

export interface DueWork {
  initial: ScheduledItem[];
  resync: ScheduledItem[];
  /** Replication windows: one machine, or the due machines of one replication group. */
  cycles: Array<{ items: ScheduledItem[]; appConsistent: boolean }>;
}

export function scheduledItems(vault: Vault, where: { host?: { siteId: number; name: string } } = {}): Promise<ScheduledItem[]> {
  return itemsWithSchedule(vault.db, where.host);
}

/** Whether an item may be attempted now: not waiting out a back-off, not stopped by a non-recoverable error. */
const mayAttempt = (item: ItemRow, now: number) =>
  (item.error_code === null || item.error_recoverable === 1) && (item.next_attempt_at === null || item.next_attempt_at <= now);

/**
 * What is due now: initial replications whose start has come, resyncs inside their window (or asked
 * for), and replication windows due on their copy frequency. Leased items (an agent holds them) are
 * skipped; with `leased`, work whose lease ran out (its agent died mid-way) is due again.
 */
export function dueWork(rows: ScheduledItem[], now: number, options: { leased?: boolean } = {}): DueWork {
  const due: DueWork = { initial: [], resync: [], cycles: [] };
  const groups = new Map<string, ScheduledItem[]>();
  for (const row of rows) {
    // Replication runs while a machine is protected in either direction, not between failover and reprotect.
    if (!mayAttempt(row, now) || !failoverFlags(row.failover_state).replicates || (row.lease_until ?? 0) > now) continue;
    // Work an agent held until its lease ran out (it died mid-way) is due again.
    const abandoned = options.leased && row.lease_until !== null;
    const { waitsFor, running } = PROTECTION_STATES[row.state];
    const pending = (work: "initial" | "resync") => waitsFor === work || (abandoned && running === work);
    if (pending("initial") && (row.initial_replication_start ?? 0) <= now) {
      due.initial.push(row);
    } else if (
      pending("resync") &&
      (running === "resync" || row.resync_reason === "Requested" || inWindow(now, { start: row.resync_start, end: row.resync_end }))
    ) {
      due.resync.push(row);
    } else if (waitsFor === "cycle" && now - (row.last_attempt_at ?? 0) >= COPY_FREQUENCY_MS[row.copy_frequency as CopyFrequency]) {
      const key = row.group_name ? `group:${row.group_name}` : `item:${row.id}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
  }
  for (const items of groups.values()) {
    due.cycles.push({
      items,
      appConsistent: items.some((r) => r.app_consistent_hours > 0 && now - (r.last_app_point_at ?? 0) >= r.app_consistent_hours * HOUR),
    });
  }
  return due;
}
