import type { Kysely, Transaction } from "kysely";
import type { Vault } from "../vault";
import type { Tables } from "../catalog/tables";
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

type Db = Kysely<Tables> | Transaction<Tables>;

/**
 * What verify found, kept in the catalog: damaged_blocks holds the stored copies (and manifest chunks)
 * found bad, until they are found intact again (resync rewrites them); point_damage says how many of
 * those each disk of each point relies on. A point with damage cannot be restored: failover, drills,
 * failback and materialize refuse it, and `points` marks it.
 */


/** A disk of a point, as the catalog keeps its manifest: the chunk list. */
export interface PointDisk {
  point_id: string;
  disk_id: number;
  chunks: Buffer;
}

export type DamageKind = "block" | "chunk";

const BATCH = 400;

function* batches<T>(list: T[]): Generator<T[]> {
  for (let i = 0; i < list.length; i += BATCH) yield list.slice(i, i + BATCH);
}

/** The damaged disks of these points (points without damage are absent). */
export async function damageOfPoints(db: Db, pointIds: string[]): Promise<Map<string, DiskDamage[]>> {
  const out = new Map<string, DiskDamage[]>();
  for (const ids of batches(pointIds)) {
    const rows = await db
      .selectFrom("point_damage")
      .innerJoin("disks", "disks.id", "point_damage.disk_id")
      .select(["point_damage.point_id", "disks.name", "point_damage.blocks"])
      .where("point_damage.point_id", "in", ids)
      .orderBy("disks.id")
      .execute();
    for (const row of rows) out.set(row.point_id, [...(out.get(row.point_id) ?? []), { disk: row.name, blocks: row.blocks }]);
  }
  return out;
}

/** An item's damaged points, newest first, with when their damage was first found. */
export async function damagedPointsOf(db: Db, itemId: number): Promise<Array<{ id: string; capturedAt: number; foundAt: number; disks: DiskDamage[] }>> {
  const rows = await db
    .selectFrom("point_damage")
    .innerJoin("points", "points.id", "point_damage.point_id")
    .innerJoin("disks", "disks.id", "point_damage.disk_id")
    .select(["points.id", "points.captured_at", "point_damage.found_at", "disks.name", "point_damage.blocks"])
    .where("points.item_id", "=", itemId)
    .orderBy("points.captured_at", "desc")
    .orderBy("points.id", "desc")
    .orderBy("disks.id")
    .execute();
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
    "PointDamaged", `recovery point ${pointId} of '${item.name}' is damaged (${disksText(damage)}, found by verify) and cannot be restored; choose another point ('lifeboat points ${item.name}'), or resync to repair the latest`, { field: "point" }
  );
}

/** Whether the item's latest point is damaged: the next capture would rely on the same damaged copies. */
export async function latestIsDamaged(vault: Vault, itemId: number): Promise<boolean> {
  const latest = await vault.db.selectFrom("points").select("id").where("item_id", "=", itemId).orderBy("captured_at", "desc").orderBy("id", "desc").executeTakeFirst();
  return latest !== undefined && (await damageOfPoints(vault.db, [latest.id])).has(latest.id);
}

/** The damaged elements on record. */
async function knownDamage(db: Db): Promise<Map<string, DamageKind>> {
  const rows = await db.selectFrom("damaged_blocks").select(["id", "kind"]).execute();
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
    for (const ids of batches(chunkIds)) {
      for (const row of await db.selectFrom("manifest_chunks").select(["id", "data"]).where("id", "in", ids).execute()) {
        let count = 0;
        // A damaged chunk is on record itself (its points count it); its ids cannot be read.
        const ids = intactChunk(dataKey, row.id, row.data);
        for (const id of ids ? nonZeroIds(ids) : []) if (damage.has(id)) count++;
        perChunk.set(row.id, count);
      }
    }
  }
  const existing = new Set<string>();
  for (const ids of batches([...new Set(candidates.map((c) => c.point_id))])) {
    for (const row of await db.selectFrom("points").select("id").where("id", "in", ids).execute()) existing.add(row.id);
  }
  for (const c of candidates) {
    if (!existing.has(c.point_id)) continue;
    // A chunk that is itself damaged (or gone) counts once: its ids cannot be trusted.
    const blocks = damage.size === 0 ? 0 : chunkIdsOf(c.chunks).reduce((sum, id) => sum + (damage.has(id) || !perChunk.has(id) ? 1 : perChunk.get(id)!), 0);
    if (blocks === 0) {
      await db.deleteFrom("point_damage").where("point_id", "=", c.point_id).where("disk_id", "=", c.disk_id).execute();
    } else {
      await db
        .insertInto("point_damage")
        .values({ point_id: c.point_id, disk_id: c.disk_id, blocks, found_at: now })
        .onConflict((oc) => oc.columns(["point_id", "disk_id"]).doUpdateSet({ blocks }))
        .execute();
    }
  }
}

/** The disks of points that have damage on record. */
export async function damagedPointDisks(db: Db): Promise<PointDisk[]> {
  return db
    .selectFrom("point_disks")
    .innerJoin("point_damage", (j) => j.onRef("point_damage.point_id", "=", "point_disks.point_id").onRef("point_damage.disk_id", "=", "point_disks.disk_id"))
    .select(["point_disks.point_id", "point_disks.disk_id", "point_disks.chunks"])
    .execute();
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
      await trx.insertInto("damaged_blocks").values({ id, kind, reason, found_at: now }).onConflict((oc) => oc.column("id").doUpdateSet({ reason })).execute();
    }
    const known = await knownDamage(trx);
    const cleared = [...known.keys()].filter((id) => findings.intact(id) && !findings.damaged.has(id));
    if (findings.live) cleared.push(...[...known.keys()].filter((id) => !findings.live!.has(id)));
    for (const ids of batches(cleared)) await trx.deleteFrom("damaged_blocks").where("id", "in", ids).execute();
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
  const items = await vault.db.selectFrom("items").select(["id", "state", "resync_reason", "failover_state"]).where("state", "in", ["Protected", "ResyncRequired"]).execute();
  for (const item of items) {
    if (!failoverFlags(item.failover_state).replicates) continue;
    await writeItemState(vault.db, item.id, (await latestIsDamaged(vault, item.id)) ? "replicaDamaged" : "replicaIntact");
  }
}

async function chunkIntact(vault: Vault, id: string): Promise<boolean> {
  const row = await vault.db.selectFrom("manifest_chunks").select("data").where("id", "=", id).executeTakeFirst();
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
