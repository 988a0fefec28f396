import type { Vault } from "../vault";
import { HOUR } from "../clock";
import { chunkIdsOf, nonZeroIds } from "./block-map";
import { collectPartialOutputs } from "./partial-outputs";

export interface RetentionResult {
  pointsDeleted: number;
  chunksDeleted: number;
  blocksDeleted: number;
  bytesFreed: number;
  /** Materialized disks left half-written by killed processes, removed. */
  partialOutputsDeleted: number;
}

/** Points that have left their policy's retention window; each item's latest point always stays. */
export async function expiredPoints(vault: Vault): Promise<string[]> {
  const items = await vault.db.selectFrom("items").innerJoin("policies", "policies.id", "items.policy_id").select(["items.id", "policies.retention_hours"]).execute();
  const expired: string[] = [];
  for (const item of items) {
    const cutoff = vault.clock.now() - item.retention_hours * HOUR;
    const rows = await vault.db.selectFrom("points").select(["id", "captured_at"]).where("item_id", "=", item.id).orderBy("captured_at", "desc").orderBy("id", "desc").execute();
    expired.push(...rows.slice(1).filter((r) => r.captured_at < cutoff).map((r) => r.id));
  }
  return expired;
}

/**
 * Delete expired points, then collect garbage: unreferenced manifest chunks and blocks, giving the space
 * back, and what killed processes left (temporary pack files, partial materialized disks).
 */
export async function applyRetention(vault: Vault): Promise<RetentionResult> {
  const expired = await expiredPoints(vault);
  for (let i = 0; i < expired.length; i += 400) {
    await vault.db.deleteFrom("points").where("id", "in", expired.slice(i, i + 400)).execute();
  }
  return { pointsDeleted: expired.length, ...(await collectGarbage(vault)) };
}

export async function collectGarbage(vault: Vault): Promise<Omit<RetentionResult, "pointsDeleted">> {
  const live = new Set<string>();
  for (const row of await vault.db.selectFrom("point_disks").select("chunks").execute()) for (const id of chunkIdsOf(row.chunks)) live.add(id);
  for (const row of await vault.db.selectFrom("disks").select("state_chunks").where("state_chunks", "is not", null).execute()) {
    for (const id of chunkIdsOf(row.state_chunks!)) live.add(id);
  }
  const all = await vault.db.selectFrom("manifest_chunks").select("id").execute();
  const dead = all.map((r) => r.id).filter((id) => !live.has(id));
  for (let i = 0; i < dead.length; i += 400) await vault.db.deleteFrom("manifest_chunks").where("id", "in", dead.slice(i, i + 400)).execute();

  const liveBlocks = new Set<string>();
  for (const row of await vault.db.selectFrom("manifest_chunks").select("data").execute()) for (const id of nonZeroIds(row.data)) liveBlocks.add(id);
  const { blocksDeleted, bytesFreed } = await vault.store.retainOnly(liveBlocks);
  return { chunksDeleted: dead.length, blocksDeleted, bytesFreed, partialOutputsDeleted: await collectPartialOutputs(vault) };
}
