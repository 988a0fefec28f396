import type { Selectable } from "kysely";
import type { Vault } from "../vault";
import type { Tables } from "../catalog/tables";
import type { PointKind } from "../../schema";
import { EngineError, NotFoundError } from "../errors";
import type { ItemRow } from "../inventory/items";
import { damageOfPoints } from "./damage";
import type { PointView } from "../../schema";
export type { PointView };


type PointRow = Selectable<Tables["points"]>;

export async function pointView(vault: Vault, row: PointRow, itemName: string): Promise<PointView> {
  const disks = await vault.db
    .selectFrom("point_disks")
    .innerJoin("disks", "disks.id", "point_disks.disk_id")
    .select(["disks.name", "point_disks.size"])
    .where("point_disks.point_id", "=", row.id)
    .orderBy("disks.id")
    .execute();
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
  const rows = await vault.db.selectFrom("points").selectAll().where("item_id", "=", item.id).orderBy("captured_at").orderBy("id").execute();
  return Promise.all(rows.map((r) => pointView(vault, r, item.name)));
}

export async function latestPointRow(vault: Vault, itemId: number): Promise<PointRow | undefined> {
  return vault.db.selectFrom("points").selectAll().where("item_id", "=", itemId).orderBy("captured_at", "desc").orderBy("id", "desc").executeTakeFirst();
}

/** A point by id, or the latest with "latest". */
export async function resolvePoint(vault: Vault, item: ItemRow, selector: string): Promise<PointRow> {
  const row =
    selector === "latest"
      ? await latestPointRow(vault, item.id)
      : await vault.db.selectFrom("points").selectAll().where("id", "=", selector).where("item_id", "=", item.id).executeTakeFirst();
  if (!row) {
    throw selector === "latest"
      ? new EngineError("NoRecoveryPoint", `'${item.name}' has no recovery point yet`, { field: "point" })
      : new NotFoundError("recovery point", selector, "point", `'${item.name}' has no recovery point '${selector}'`);
  }
  return row;
}
