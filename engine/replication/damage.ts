import type { Vault } from "../vault";
import type { Db } from "../catalog/db";
import { batches } from "../catalog/batch";
import { itemsInStates } from "../catalog/items";
import { findManifestChunk, manifestChunksByIds, type PointDisk } from "../catalog/manifests";
import { latestPoint, pointsByIds } from "../catalog/points";
import {
  clearPointDamage,
  damagedDisksOfItem,
  damagedElements,
  damagedPointDisks,
  damageOfPointIds,
  deleteDamagedElements,
  recordDamagedElement,
  setPointDamage,
} from "../catalog/damage";
import { EngineError } from "../errors";
import type { ItemRow } from "../inventory/items";
import { failoverFlags } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { isIntact } from "./capture";
import { chunkIdsOf, nonZeroIds, type BlockMap } from "./block-map";
import { intactChunk } from "./manifests";
import type { SealingKey } from "../store/encrypt/sealing-key";
import type { DiskDamage } from "../../schema";
export type { DiskDamage };

/**
 * What verify found, kept in the catalog: damaged_blocks holds the stored copies (and manifest chunks)
 * found bad, until they are found intact again (resync rewrites them); point_damage says how many of
 * those each disk of each point relies on. A point with damage cannot be restored: failover, drills,
 * failback and materialize refuse it, and `points` marks it.
 */

export type { PointDisk };

export type DamageKind = "block" | "chunk";

/** The damaged disks of these points (points without damage are absent). */
export async function damageOfPoints(db: Db, pointIds: string[]): Promise<Map<string, DiskDamage[]>> {
  const out = new Map<string, DiskDamage[]>();
  for (const row of await damageOfPointIds(db, pointIds)) out.set(row.point_id, [...(out.get(row.point_id) ?? []), { disk: row.name, blocks: row.blocks }]);
  return out;
}

/** An item's damaged points, newest first, with when their damage was first found. */
export async function damagedPointsOf(db: Db, itemId: number): Promise<Array<{ id: string; capturedAt: number; foundAt: number; disks: DiskDamage[] }>> {
  const rows = await damagedDisksOfItem(db, itemId);
  const byPoint = new Map<string, { id: string; capturedAt: number; foundAt: number; disks: DiskDamage[] }>();
  for (const row of rows) {
    const entry = byPoint.get(row.id) ?? { id: row.id, capturedAt: row.captured_at, foundAt: row.found_at, disks: [] };
    entry.foundAt = Math.min(entry.foundAt, row.found_at);
    entry.disks.push({ disk: row.name, blocks: row.blocks });
    byPoint.set(row.id, entry);
  }
  return [...byPoint.values()];
}

export const disksText = (disks: DiskDamage[]) => disks.map((d) => `disk ${d.disk}: ${d.blocks} damaged block(s)`).join(", ");

/** Names of points for a message: the first few, then how many more. */
export function pointsText(ids: string[], shown = 5): string {
  return ids.length <= shown ? ids.join(", ") : `${ids.slice(0, shown).join(", ")} and ${ids.length - shown} more`;
}

/** Refuse a damaged point: it cannot be restored. */
export async function assertRestorable(vault: Vault, item: ItemRow, pointId: string): Promise<void> {
  const damage = (await damageOfPoints(vault.db, [pointId])).get(pointId);
  if (!damage) return;
  throw new EngineError(
    "PointDamaged",
    `recovery point ${pointId} of '${item.name}' is damaged (${disksText(damage)}, found by verify) and cannot be restored; choose another point ('lifeboat points ${item.name}'), or resync to repair the latest`,
    { field: "point" },
  );
}

/** Whether the item's latest point is damaged: the next capture would rely on the same damaged copies. */
export async function latestIsDamaged(vault: Vault, itemId: number): Promise<boolean> {
  const latest = await latestPoint(vault.db, itemId);
  return latest !== undefined && (await damageOfPoints(vault.db, [latest.id])).has(latest.id);
}

/** The damaged elements on record. */
async function knownDamage(db: Db): Promise<Map<string, DamageKind>> {
  const rows = await damagedElements(db);
  return new Map(rows.map((r) => [r.id, r.kind as DamageKind]));
}

/**
 * Count, for each disk of each point, the damaged elements its manifest relies on, and store that (rows
 * of points now clean go). Each manifest chunk is read and counted once, however many points share it;
 * points deleted meanwhile are skipped.
 */
export async function refreshPointDamage(db: Db, dataKey: SealingKey | undefined, candidates: PointDisk[], now: number): Promise<void> {
  if (candidates.length === 0) return;
  const damage = await knownDamage(db);
  const perChunk = new Map<string, number>();
  if (damage.size > 0) {
    const chunkIds = [...new Set(candidates.flatMap((c) => chunkIdsOf(c.chunks)))];
    // A batch at a time: only one batch of chunks is held in memory.
    for (const batch of batches(chunkIds)) {
      for (const row of await manifestChunksByIds(db, batch)) {
        let count = 0;
        // A damaged chunk is on record itself (its points count it); its ids cannot be read.
        const ids = intactChunk(dataKey, row.id, row.data);
        for (const id of ids ? nonZeroIds(ids) : []) if (damage.has(id)) count++;
        perChunk.set(row.id, count);
      }
    }
  }
  const existing = new Set((await pointsByIds(db, [...new Set(candidates.map((c) => c.point_id))])).map((row) => row.id));
  for (const c of candidates) {
    if (!existing.has(c.point_id)) continue;
    // A chunk that is itself damaged (or gone) counts once: its ids cannot be trusted.
    const blocks = damage.size === 0 ? 0 : chunkIdsOf(c.chunks).reduce((sum, id) => sum + (damage.has(id) || !perChunk.has(id) ? 1 : perChunk.get(id)!), 0);
    if (blocks === 0) await clearPointDamage(db, c.point_id, c.disk_id);
    else await setPointDamage(db, c.point_id, c.disk_id, blocks, now);
  }
}

export interface Findings {
  /** Elements found damaged, with why. */
  damaged: Map<string, { kind: DamageKind; reason: string }>;
  /** Whether an element was read back and found intact (its earlier damage, if any, is cleared). */
  intact: (id: string) => boolean;
  /** With a scrub of every point of the vault: the elements any point relies on; damage of others is forgotten. */
  live?: Set<string>;
}

/**
 * Record a verify's findings and recount the damage of the points checked and of those already damaged.
 * Runs in one transaction.
 */
export async function recordFindings(vault: Vault, findings: Findings, checked: PointDisk[]): Promise<void> {
  const now = vault.clock.now();
  await vault.db.transaction().execute(async (trx) => {
    for (const [id, { kind, reason }] of findings.damaged) {
      await recordDamagedElement(trx, id, kind, reason, now);
    }
    const known = await knownDamage(trx);
    const cleared = [...known.keys()].filter((id) => findings.intact(id) && !findings.damaged.has(id));
    if (findings.live) cleared.push(...[...known.keys()].filter((id) => !findings.live!.has(id)));
    await deleteDamagedElements(trx, cleared);
    await refreshPointDamage(trx, vault.dataKey, [...checked, ...(await damagedPointDisks(trx))], now);
  });
}

/**
 * Read back every damaged block on record and forget those now intact (resync wrote them again), then
 * recount the damaged points and settle the items' states. Returns the ids cleared.
 */
export async function recheckDamage(vault: Vault): Promise<string[]> {
  const known = await knownDamage(vault.db);
  if (known.size === 0) return [];
  const intact = new Set<string>();
  for (const [id, kind] of known) {
    if (kind === "block" ? await isIntact(vault.store, id) : await chunkIntact(vault, id)) intact.add(id);
  }
  await recordFindings(vault, { damaged: new Map(), intact: (id) => intact.has(id) }, []);
  await settleDamagedStates(vault);
  return [...intact];
}

/**
 * A replicating item whose latest point is damaged needs a resync (its next cycles would rely on the same
 * damaged copies); one that needed it for that reason alone and whose latest point is intact again does not.
 */
export async function settleDamagedStates(vault: Vault): Promise<void> {
  const items = await itemsInStates(vault.db, ["Protected", "ResyncRequired"]);
  for (const item of items) {
    if (!failoverFlags(item.failover_state).replicates) continue;
    await writeItemState(vault.db, item.id, (await latestIsDamaged(vault, item.id)) ? "replicaDamaged" : "replicaIntact");
  }
}

async function chunkIntact(vault: Vault, id: string): Promise<boolean> {
  const row = await findManifestChunk(vault.db, id);
  return row !== undefined && intactChunk(vault.dataKey, id, row.data) !== undefined;
}

/**
 * How many damaged copies on record a new manifest relies on, each read back again first (it may have
 * been stored afresh since). Cheap when nothing is on record, as is usual.
 */
export async function damageOfNewMap(vault: Vault, map: BlockMap): Promise<number> {
  const known = await knownDamage(vault.db);
  if (known.size === 0) return 0;
  const relied = [...nonZeroIds(map.ids)].filter((id) => known.get(id) === "block");
  const bad = new Set<string>();
  for (const id of new Set(relied)) if (!(await isIntact(vault.store, id))) bad.add(id);
  return relied.filter((id) => bad.has(id)).length; // block positions, as refreshPointDamage counts them
}
