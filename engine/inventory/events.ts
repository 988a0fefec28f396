import type { CatalogDb } from "../catalog/catalog";
import type { ItemEvent, ItemEventCode } from "../../schema";
export type { ItemEvent };
import { insertItemEvent, latestItemEvents } from "../catalog/events";
import { findItemId } from "../catalog/items";

/** How many of an item's events its status shows, newest first. */
const SHOWN = 20;

/** Note in an item's history something that happened to it outside a job it ran (a crash cleaned up after). */
export async function recordItemEvent(db: CatalogDb, itemId: number, at: number, code: ItemEventCode, message: string): Promise<void> {
  await insertItemEvent(db, itemId, at, code, message);
}

/** The same, for an item named by a job's target; nothing when no such item exists (any more). */
export async function recordEventFor(db: CatalogDb, itemName: string, at: number, code: ItemEventCode, message: string): Promise<void> {
  const item = await findItemId(db, itemName);
  if (item) await recordItemEvent(db, item.id, at, code, message);
}

/** An item's latest events, newest first. */
export async function itemEvents(db: CatalogDb, itemId: number): Promise<ItemEvent[]> {
  const rows = await latestItemEvents(db, itemId, SHOWN);
  return rows.map((r) => ({ at: new Date(r.at).toISOString(), code: r.code as ItemEventCode /* written only by recordItemEvent */, message: r.message }));
}
