import type { Vault } from "../vault";
import type { Hooks } from "../../schema";
import { hooksOf, type ItemRow } from "../inventory/items";
import { findMachine } from "../catalog/machines";

/**
 * The hooks of the machine replication reads now. Normally the protected machine's own. After reprotect
 * the source is the failed-over machine at the recovery site: a started one is held still by stopping and
 * continuing its process group; one that was only materialized needs nothing.
 */
export async function sourceHooks(vault: Vault, item: ItemRow): Promise<Hooks> {
  if (item.active_site !== "recovery") return hooksOf(item);
  const machine = await findMachine(vault.db, item.id, "failover");
  return machine?.pid ? { pause: `kill -STOP -${machine.pid}`, resume: `kill -CONT -${machine.pid}` } : {};
}
