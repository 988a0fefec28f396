import type { Kysely, Updateable } from "kysely";
import type { Tables } from "../catalog/tables";
import { itemStateColumns, updateItemRow } from "../catalog/items";
import { failoverFlags, transition, type ItemOperation, type ItemStateColumns, type OperationContext } from "./item-state";

/** Columns an operation writes together with the state (a failover's point, a failure's details). */
export type AlsoColumns = Omit<Updateable<Tables["items"]>, "state" | "failover_state" | "resync_reason" | "active_site">;

/**
 * The one writer of an item's state: reads the row's state (inside `db`, which may be the caller's
 * transaction), asks the state machine for `operation` (throwing its refusal, which writes nothing), and
 * writes the new state, its resync reason, the active site that goes with a new failover state and `also`.
 * Answers whether the state changed.
 */
export async function writeItemState(
  db: Kysely<Tables>,
  itemId: number,
  operation: ItemOperation,
  options: { context?: OperationContext; also?: AlsoColumns } = {},
): Promise<{ changed: boolean; after: ItemStateColumns }> {
  const before = await itemStateColumns(db, itemId);
  const after = transition(before, operation, options.context);
  const failoverChanged = after.failover_state !== before.failover_state;
  const changed = failoverChanged || after.state !== before.state || after.resync_reason !== before.resync_reason;
  const set: Updateable<Tables["items"]> = {
    ...options.also,
    ...(changed ? after : {}),
    ...(failoverChanged ? { active_site: failoverFlags(after.failover_state).site } : {}),
  };
  if (Object.keys(set).length) await updateItemRow(db, itemId, set);
  return { changed, after };
}

/** Work under way stopped without a point (its agent failed, or the item moved to another host): it waits for that work again. */
export async function stopHeldWork(db: Kysely<Tables>, itemId: number): Promise<void> {
  await writeItemState(db, itemId, "initialStopped");
  await writeItemState(db, itemId, "resyncStopped");
}
