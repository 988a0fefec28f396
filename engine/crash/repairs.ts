import type { Vault } from "../vault";
import type { ItemRow } from "../inventory/items";
import { afterInterruptedProtection } from "../replication/protect";
import { afterInterruptedResync } from "../replication/resync";
import { afterInterruptedReprotect } from "../failover/reprotect";
import { afterInterruptedDrill } from "../failover/drill";
import { afterInterruptedFailover, afterInterruptedPointChange } from "../failover/failover";
import { afterInterruptedFailback } from "../failover/failback";

/**
 * What a job left half-done when its process died, put back so the operation can run again. Each answers
 * what it did, for the job's error and the item's history. Jobs not listed need nothing: a replication
 * cycle records its point in one transaction, a materialize writes to `.partial` files it overwrites
 * next time, and commit, migrate, cleanup and unprotect can simply run again. A failback or a point change
 * needs nothing undone, but says what is not running.
 */
type Repair = (vault: Vault, item: ItemRow, done: Set<string>) => Promise<string | undefined>;

const REPAIRS: Record<string, Repair> = {
  EnableProtection: afterInterruptedProtection,
  Resync: afterInterruptedResync,
  Reprotect: afterInterruptedReprotect,
  TestFailover: afterInterruptedDrill,
  Failover: afterInterruptedFailover,
  ChangeRecoveryPoint: afterInterruptedPointChange,
  Failback: afterInterruptedFailback,
};

/** Put back what a job of `type` left of the item; `done` names its top-level tasks that had succeeded. */
export function repairAfter(type: string, vault: Vault, item: ItemRow, done: Set<string>): Promise<string | undefined> {
  return REPAIRS[type]?.(vault, item, done) ?? Promise.resolve(undefined);
}
