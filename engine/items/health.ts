import type { Vault } from "../vault";
import { DAY, MINUTE, iso } from "../clock";
import { storedHealthCode, type Health, type HealthError, type ItemStatus, type PointKind, type VaultStatus } from "../../schema";
import { reportedState } from "../inventory/item-state";
import { machineDetails, machineOf } from "../failover/machines";
import { allDisks, hooksOf, recoveryOf, type ItemRow } from "../inventory/items";
import { policyView } from "../inventory/policies";
import { latestPointRow } from "../replication/points";
import { damagedPointsOf, pointsText } from "../replication/damage";
import { agentHostOf, isSilent, SILENCE_MS } from "../inventory/hosts";
import { itemEvents } from "../inventory/events";
import { diskSource } from "../tracking/disk-source";
export type { HealthError, ItemStatus };
import { policyById } from "../catalog/policies";
import { siteById } from "../catalog/sites";
import { countPoints } from "../catalog/points";
import { openDrill } from "../catalog/drills";
import { allItems } from "../catalog/items";

const DRILL_INTERVAL_MS = 180 * DAY;

/** Health is derived when asked, from stored facts and the clock, so RPO is always current. */
export async function itemStatus(vault: Vault, item: ItemRow): Promise<ItemStatus> {
  const policy = await policyById(vault.db, item.policy_id);
  const site = await siteById(vault.db, item.site_id);
  const latest = await latestPointRow(vault, item.id);
  const count = await countPoints(vault.db, item.id);
  const now = vault.clock.now();
  const rpoSeconds = latest ? Math.max(0, Math.round((now - latest.captured_at) / 1000)) : null;
  const threshold = policyView(policy, null).rpoThresholdMinutes * MINUTE;

  const state = reportedState(item);
  const errors: HealthError[] = [];
  if (item.error_code)
    errors.push({
      code: storedHealthCode(item.error_code),
      message: item.error_message ?? "",
      since: iso(item.error_since),
      recoverable: item.error_recoverable === 1,
    });
  if (state === "ResyncRequired") {
    errors.push({
      code: "ResyncRequired",
      message: `resync required (${item.resync_reason}); it runs in the resync window ${policy.resync_start}–${policy.resync_end} or with 'lifeboat resync ${item.name}'`,
      since: null,
      recoverable: true,
    });
  }
  if (!latest && state !== "Migrated") errors.push({ code: "NoRecoveryPoint", message: noPointReason(item), since: iso(item.created_at), recoverable: true });
  if (latest && now - latest.captured_at > threshold) {
    errors.push({
      code: "RpoThresholdExceeded",
      message: `RPO ${rpoSeconds} s exceeds the threshold of ${policy.rpo_threshold_minutes} minutes`,
      since: iso(latest.captured_at + threshold),
      recoverable: true,
    });
  }
  const damaged = await damagedPointsOf(vault.db, item.id);
  if (damaged.length) {
    // Critical while the latest point is damaged (nothing current can be restored); once resync has repaired
    // it, older points relying on blocks no source has any more are a warning until retention removes them.
    const latestDamaged = damaged[0].id === latest?.id;
    errors.push({
      code: "ReplicaDamaged",
      message: `verify found blocks damaged in the store: ${damaged.length} recovery point(s) cannot be restored (${pointsText(damaged.map((d) => d.id))})${
        latestDamaged
          ? `, the latest among them; 'lifeboat resync ${item.name}' repairs it from the source`
          : `; the latest point is intact, and these older blocks are in no source any more`
      }`,
      since: iso(Math.min(...damaged.map((d) => d.foundAt))),
      recoverable: !latestDamaged,
    });
  }
  const agent = await agentHostOf(vault, item);
  const silent = agent !== null && isSilent(agent, now);
  if (agent && silent) {
    // Silence alone is a warning; silence that lets the RPO pass its threshold needs someone now.
    const rpoExceeded = latest !== undefined && now - latest.captured_at > threshold;
    errors.push({
      code: "AgentSilent",
      message: `the agent on host ${agent.name} has not called in since ${iso(agent.lastSeenAt ?? agent.registeredAt)}${rpoExceeded ? ", and the RPO is past its threshold" : ""}`,
      since: iso((agent.lastSeenAt ?? agent.registeredAt) + SILENCE_MS),
      recoverable: !rpoExceeded,
    });
  }
  const disks = await allDisks(vault, item.id);
  for (const d of disks.filter((d) => d.tracking_reset !== null && d.excluded === 0)) {
    // The replica is whole (the cycle read the whole disk); the warning says cycles cost the disk's size until tracking holds again.
    errors.push({
      code: "TrackingReset",
      message: `disk ${d.name}: change tracking was reset (${d.tracking_reset}); the last cycle read the whole disk`,
      since: null,
      recoverable: true,
    });
  }
  const health: Health = errors.some((e) => !e.recoverable) ? "Critical" : errors.length ? "Warning" : "Normal";
  const machineRow = await machineOf(vault, item, "failover");
  const machine = machineRow ? machineDetails(machineRow) : null;
  const drill = await openDrill(vault.db, item.id);
  return {
    name: item.name,
    site: site.name,
    host: item.host,
    policy: policy.name,
    group: item.group_name,
    generation: item.generation,
    osType: item.os_type,
    state,
    health,
    healthErrors: errors,
    rpoSeconds,
    rpoThresholdSeconds: threshold / 1000,
    latestPoint: latest ? { id: latest.id, capturedAt: iso(latest.captured_at)!, kind: latest.kind as PointKind } : null,
    lastAppConsistentAt: iso(item.last_app_point_at),
    points: Number(count),
    resyncRequired: state === "ResyncRequired" ? item.resync_reason : null,
    failures: item.failures,
    nextAttemptAt: iso(item.next_attempt_at),
    disks: disks.map((d) => ({
      name: d.name,
      path: d.path,
      primaryPath: d.primary_path,
      os: d.os === 1,
      excluded: d.excluded === 1,
      replicatedSize: d.state_size,
      tracking: diskSource(item, d).kind === "qemu" ? ("dirty-bitmap" as const) : ("scan" as const),
      checkpoint: d.checkpoint,
      trackingReset: d.tracking_reset,
    })),
    qmp: item.qmp,
    hooks: Object.keys(hooksOf(item)),
    activeSite: item.active_site,
    failoverState: item.failover_state,
    failoverPoint: item.failover_point,
    lastDrillAt: iso(item.last_drill_at),
    drillRecommended: now - (item.last_drill_at ?? item.created_at) >= DRILL_INTERVAL_MS,
    recoveryMachine: machine ? { name: machine.name, dir: machine.dir, state: machine.state, ip: machine.nics[0]?.ip ?? null } : null,
    drill: drill ? { id: drill.id, startedAt: iso(drill.started_at)! } : null,
    nics: JSON.parse(item.nics) as ItemStatus["nics"],
    recovery: recoveryOf(item),
    agent: agent ? { host: agent.name, lastSeenAt: iso(agent.lastSeenAt), silent } : null,
    history: await itemEvents(vault.db, item.id),
  };
}

/** Why an item has no point to fail over to (as ASR, no point is never healthy: the machine cannot be recovered). */
function noPointReason(item: ItemRow): string {
  const base = "no recovery point yet, so the machine cannot be recovered";
  if (item.failover_state === "Committed" || item.failover_state === "FailbackCommitted")
    return `no recovery point: the ${item.failover_state === "Committed" ? "failover" : "failback"} was committed; protect it again with 'lifeboat reprotect ${item.name}'`;
  if (item.state === "EnablingProtection" || item.state === "InitialReplicationInProgress") return `${base}: the initial replication is running`;
  if (item.state === "InitialReplicationPending")
    return `${base}: the initial replication is pending${item.next_attempt_at ? ` (next attempt at ${iso(item.next_attempt_at)})` : ""}`;
  return `${base}: the next replication cycle makes one`;
}

/** The vault as a whole (identity, registration key, store, encryption) and every item's status. */
export async function vaultStatus(vault: Vault): Promise<VaultStatus> {
  const rows = await allItems(vault.db);
  return {
    vault: {
      dir: vault.dir,
      id: vault.id,
      registrationKey: await vault.registrationKeyState(),
      store: await vault.store.stats(),
      encryption: vault.encryption,
    },
    items: await Promise.all(rows.map((r) => itemStatus(vault, r))),
  };
}
