import type { Vault } from "../vault";
import { deleteMeta, metaValue, setMetaValue } from "../catalog/meta";
import { anyItemFailingWith } from "../catalog/items";

/** When the last scheduled verify started (epoch ms); set at the daemon's first tick, so the first runs an interval later. */
const LAST_VERIFY = "verify_last_at";
/** Set when a failure was StoreFull: writes may have gone wrong, so the store is verified once it takes writes again. */
const AFTER_STORE_FULL = "verify_after_store_full";

const meta = (vault: Vault, key: string) => metaValue(vault.db, key);
const setMeta = (vault: Vault, key: string, value: string) => setMetaValue(vault.db, key, value);

/** A StoreFull failure was recorded: verify the vault once the store has recovered. */
export async function verifyAfterStoreFull(vault: Vault): Promise<void> {
  await setMeta(vault, AFTER_STORE_FULL, String(vault.clock.now()));
}

/**
 * Why a scheduled verify of the whole vault is due now, or null: a StoreFull was recorded and no item is
 * failing with it any more (the store takes writes again), or the interval (null: never) has passed.
 */
export async function verifyDue(vault: Vault, intervalMs: number | null): Promise<string | null> {
  const now = vault.clock.now();
  if (await meta(vault, AFTER_STORE_FULL)) {
    const full = await anyItemFailingWith(vault.db, "StoreFull");
    if (!full) return "the store was full";
  }
  const last = await meta(vault, LAST_VERIFY);
  if (last === undefined) {
    await setMeta(vault, LAST_VERIFY, String(now));
    return null;
  }
  return intervalMs !== null && now - Number(last) >= intervalMs ? "scheduled" : null;
}

/** A scheduled verify starts: the interval counts from now, and a pending StoreFull verify is this one. */
export async function verifyStarted(vault: Vault): Promise<void> {
  await setMeta(vault, LAST_VERIFY, String(vault.clock.now()));
  await deleteMeta(vault.db, AFTER_STORE_FULL);
}
