import type { Vault } from "../vault";
import { findPointOf, latestPoint, pointsOldestFirst, type PointRow } from "../catalog/points";
import { disksOfPoint } from "../catalog/manifests";
import type { PointKind } from "../../schema";
import { EngineError, NotFoundError } from "../errors";
import type { ItemRow } from "../inventory/items";
import { damageOfPoints } from "./damage";
import type { PointView } from "../../schema";
export type { PointView };

export async function pointView(vault: Vault, row: PointRow, itemName: string): Promise<PointView> {
  const disks = (await disksOfPoint(vault.db, row.id)).map(({ name, size }) => ({ name, size }));
  const damage = (await damageOfPoints(vault.db, [row.id])).get(row.id) ?? [];
  return {
    id: row.id,
    item: itemName,
    capturedAt: new Date(row.captured_at).toISOString(),
    kind: row.kind as PointKind,
    group: row.group_name,
    windowId: row.window_id,
    bytesRead: row.bytes_read,
    blocksChanged: row.blocks_changed,
    bytesStored: row.bytes_stored,
    disks: disks.map((d) => ({ name: d.name, size: d.size })),
    damaged: damage.length > 0,
    damagedDisks: damage,
  };
}

/** Points of an item, oldest first. */
export async function listPoints(vault: Vault, item: ItemRow): Promise<PointView[]> {
  const rows = await pointsOldestFirst(vault.db, item.id);
  return Promise.all(rows.map((r) => pointView(vault, r, item.name)));
}

export async function latestPointRow(vault: Vault, itemId: number): Promise<PointRow | undefined> {
  return latestPoint(vault.db, itemId);
}

/** A point by id, or the latest with "latest". */
export async function resolvePoint(vault: Vault, item: ItemRow, selector: string): Promise<PointRow> {
  const row = selector === "latest" ? await latestPointRow(vault, item.id) : await findPointOf(vault.db, item.id, selector);
  if (!row) {
    throw selector === "latest"
      ? new EngineError("NoRecoveryPoint", `'${item.name}' has no recovery point yet`, { field: "point" })
      : new NotFoundError("recovery point", selector, "point", `'${item.name}' has no recovery point '${selector}'`);
  }
  return row;
}
