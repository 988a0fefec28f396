import type { Vault } from "../vault";
import { classify, type EngineError } from "../errors";
import { MINUTE } from "../clock";
import { includedDisks, type ItemRow } from "../inventory/items";
import type { ItemOperation } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { diskSize } from "../disks/block-reader";
import { loadDiskState } from "./manifests";
import { pendingBytes } from "./capture";
import { verifyAfterStoreFull } from "./verify-schedule";
import { itemById } from "../catalog/items";

/** Back-off after the 1st..5th consecutive failure; every 30 minutes after that (as ASR retries). */
const BACKOFF_MINUTES = [1, 2, 4, 8, 10];
const STEADY_RETRY_MINUTES = 30;
/** Pending change data at or above this share of a disk needs a resync instead of a delta cycle. */
export const RESYNC_PENDING_SHARE = 0.5;

export function retryDelayMs(failures: number): number {
  return (BACKOFF_MINUTES[failures - 1] ?? STEADY_RETRY_MINUTES) * MINUTE;
}

/**
 * Record a failed attempt. Recoverable errors schedule the next attempt on the back-off; the change
 * data left pending is measured, and at half a disk or more the item needs a resync. Non-recoverable
 * errors stop retrying until someone resolves them; a broken chain needs a resync.
 */
export async function recordFailure(vault: Vault, items: ItemRow[], error: unknown, options: { measurePending?: boolean } = {}): Promise<EngineError> {
  const e = classify(error);
  const now = vault.clock.now();
  if (e.code === "StoreFull") await verifyAfterStoreFull(vault); // a full store may have left writes short
  for (const item of items) {
    const fresh = await itemById(vault.db, item.id);
    const failures = fresh.failures + 1;
    let outcome: ItemOperation = "attemptFailed";
    if (e.code === "ChainBroken") outcome = "chainBroken";
    else if (e.recoverable && options.measurePending !== false && (await pendingShare(vault, item)) >= RESYNC_PENDING_SHARE) outcome = "pendingChangeData";
    await writeItemState(vault.db, item.id, outcome, {
      also: {
        failures,
        next_attempt_at: e.recoverable ? now + retryDelayMs(failures) : null,
        error_code: e.code,
        error_message: e.message,
        error_recoverable: e.recoverable ? 1 : 0,
        error_since: fresh.error_since ?? now,
        last_attempt_at: now,
      },
    });
  }
  return e;
}

/** The largest share of any disk whose content differs from its last replicated map (0 when unknown). */
async function pendingShare(vault: Vault, item: ItemRow): Promise<number> {
  let share = 0;
  for (const disk of await includedDisks(vault, item.id)) {
    try {
      const previous = await loadDiskState(vault, disk.id, vault.blockSize);
      const size = await diskSize(disk.path);
      if (previous && size > 0) share = Math.max(share, (await pendingBytes(disk.path, size, previous)) / size);
    } catch {
      // The disk cannot be read now; the failure itself is what gets reported.
    }
  }
  return share;
}
