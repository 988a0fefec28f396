import type { Vault } from "../vault";
import { HOUR } from "../clock";
import { oneTaskJob, type JobView } from "../jobs/jobs";
import { chunkIdsOf, nonZeroIds } from "./block-map";
import { collectPartialOutputs } from "./partial-outputs";
import { openChunk } from "./manifests";
import { deletePoints, pointsNewestFirst, retentionOfItems } from "../catalog/points";
import { allManifestChunks, allPointChunkLists, deleteManifestChunks, manifestChunkIds } from "../catalog/manifests";
import { allStateChunkLists } from "../catalog/disks";

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
  const items = await retentionOfItems(vault.db);
  const expired: string[] = [];
  for (const item of items) {
    const cutoff = vault.clock.now() - item.retention_hours * HOUR;
    const rows = await pointsNewestFirst(vault.db, item.id);
    expired.push(
      ...rows
        .slice(1)
        .filter((r) => r.captured_at < cutoff)
        .map((r) => r.id),
    );
  }
  return expired;
}

/**
 * Delete expired points, then collect garbage: unreferenced manifest chunks and blocks, giving the space
 * back, and what killed processes left (temporary pack files, partial materialized disks).
 */
export async function applyRetention(vault: Vault): Promise<RetentionResult> {
  const expired = await expiredPoints(vault);
  await deletePoints(vault.db, expired);
  return { pointsDeleted: expired.length, ...(await collectGarbage(vault)) };
}

/** Retention on demand, as a Retention job of the whole vault (its failure is the job's, not thrown). */
export function retentionJob(vault: Vault): Promise<JobView> {
  return oneTaskJob(vault.db, vault.clock, "Retention", "vault", "Delete expired points and collect garbage", () => applyRetention(vault));
}

export async function collectGarbage(vault: Vault): Promise<Omit<RetentionResult, "pointsDeleted">> {
  const live = new Set<string>();
  for (const chunks of await allPointChunkLists(vault.db)) for (const id of chunkIdsOf(chunks)) live.add(id);
  for (const chunks of await allStateChunkLists(vault.db)) for (const id of chunkIdsOf(chunks)) live.add(id);
  const dead = (await manifestChunkIds(vault.db)).filter((id) => !live.has(id));
  await deleteManifestChunks(vault.db, dead);

  const liveBlocks = new Set<string>();
  for (const row of await allManifestChunks(vault.db)) for (const id of nonZeroIds(openChunk(vault.dataKey, row.id, row.data))) liveBlocks.add(id);
  const { blocksDeleted, bytesFreed } = await vault.store.retainOnly(liveBlocks);
  return { chunksDeleted: dead.length, blocksDeleted, bytesFreed, partialOutputsDeleted: await collectPartialOutputs(vault) };
}
