import type { Vault } from "../vault";
import { pointsNewestFirst, type PointRow } from "../catalog/points";
import type { PointOption } from "../../schema";
import { EngineError } from "../errors";
import type { ItemRow } from "../inventory/items";
import { assertRestorable, damageOfPoints, pointsText } from "../replication/damage";

export type { PointRow };

/**
 * The recovery point each machine fails over to:
 *  latest-processed         the machine's latest point
 *  latest-app-consistent    its latest app-consistent point
 *  latest-multivm-*         machines of a replication group: the latest window holding a point of every
 *                           group member being failed over (app-consistent ones for the -app- option);
 *                           machines outside a group: their own latest
 *  an id                    that point ("latest", which first captures what the source still has, is
 *                           resolved by the failover itself and ends here as latest-processed)
 * Points verify found damaged cannot be restored: the latest-* options pass over them, and naming one is refused.
 */
export async function resolvePoints(vault: Vault, items: ItemRow[], option: PointOption): Promise<Map<number, PointRow>> {
  const chosen = new Map<number, PointRow>();
  const damaged = new Set<string>();
  const pointsOf = async (item: ItemRow) => {
    const points = await pointsNewestFirst(vault.db, item.id);
    for (const id of (
      await damageOfPoints(
        vault.db,
        points.map((p) => p.id),
      )
    ).keys())
      damaged.add(id);
    return points;
  };
  const usable = (p: PointRow) => !damaged.has(p.id) && (!appOnly || p.kind === "app");
  const multiVm = option === "latest-multivm-processed" || option === "latest-multivm-app-consistent";
  const appOnly = option === "latest-app-consistent" || option === "latest-multivm-app-consistent";

  const groups = new Map<string, ItemRow[]>();
  for (const item of items) {
    if (multiVm && item.group_name) groups.set(item.group_name, [...(groups.get(item.group_name) ?? []), item]);
    else chosen.set(item.id, await pick(item, await pointsOf(item)));
  }
  for (const [group, members] of groups) {
    const lists = await Promise.all(members.map(pointsOf));
    // Windows in which every member has a point (of the right kind), newest first.
    const windows = lists[0].filter((p) => p.window_id && usable(p)).map((p) => p.window_id!);
    const common = windows.find((w) => lists.every((list) => list.some((p) => p.window_id === w && usable(p))));
    if (!common)
      throw new EngineError(
        "NoRecoveryPoint",
        `replication group '${group}' has no ${appOnly ? "app-consistent " : ""}multi-VM point common to ${members.map((m) => m.name).join(", ")}${damaged.size ? " that is undamaged" : ""}`,
        { field: "point" },
      );
    for (const [i, m] of members.entries()) chosen.set(m.id, lists[i].find((p) => p.window_id === common)!);
  }
  return chosen;

  async function pick(item: ItemRow, points: PointRow[]): Promise<PointRow> {
    const named = option.startsWith("pt-");
    const found = named ? points.find((p) => p.id === option) : points.find(usable);
    if (!found) {
      const what = named ? `recovery point '${option}'` : appOnly ? "app-consistent recovery point" : "recovery point";
      const passed = points.filter((p) => damaged.has(p.id)).map((p) => p.id);
      const why =
        !named && passed.length
          ? ` that is undamaged (verify found damage in ${pointsText(passed)}); run 'lifeboat resync ${item.name}' to repair the latest from the source`
          : "";
      throw new EngineError("NoRecoveryPoint", `'${item.name}' has no ${what}${why}`, { field: "point" });
    }
    if (named) await assertRestorable(vault, item, found.id);
    return found;
  }
}
