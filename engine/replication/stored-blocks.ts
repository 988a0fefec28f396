import type { Vault } from "../vault";
import { ZERO_ID, type BlockMap } from "./block-map";

/**
 * Whether the blocks a new map names are in the store, asked under the vault lock just before the map is
 * recorded. Captures share the store and run beside each other and beside garbage collection, so a block
 * put (or found present) during a capture can be gone by its record: collected as unreferenced, or lost
 * by a failed pack write that another capture's flush reported. A map naming such a block is not recorded.
 */

/** The ids `map` names that `base` does not (all of them without a base), zero blocks aside. */
export function newBlockIds(map: BlockMap, base: BlockMap | null, into = new Set<string>()): Set<string> {
  for (let index = 0; index < map.count; index++) {
    const id = map.id(index);
    if (id.equals(ZERO_ID) || (base && index < base.count && base.id(index).equals(id))) continue;
    into.add(id.toString("hex"));
  }
  return into;
}

/** Those of `ids` the store's index does not hold. */
export async function unstoredBlocks(vault: Vault, ids: Set<string>): Promise<string[]> {
  if (ids.size === 0) return [];
  const present = new Set((await vault.packs.locate([...ids])).map((e) => e.id));
  return [...ids].filter((id) => !present.has(id));
}
