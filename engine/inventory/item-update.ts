import { promises as fs, constants } from "node:fs";
import type { Vault } from "../vault";
import { ItemMove, parse, ValidationError, type FieldFailure } from "../../schema";
import { ConflictError } from "../errors";
import { allDisks, itemRow, type ItemRow } from "./items";
import { agentHostOf } from "../agents/hosts";

/**
 * Move a machine to another host of its site (a live migration, say). Its replication state stays, so
 * the next cycle, by the new host's agent or the engine, is a delta: no new initial replication.
 */
export async function moveItem(vault: Vault, name: string, input: unknown): Promise<ItemRow> {
  const spec = parse(ItemMove, input, "move");
  const item = await itemRow(vault, name);
  if (item.failover_state !== null && item.failover_state !== "Reprotected") throw new ConflictError(`'${name}' is failed over (${item.failover_state}); move it after failback`, "name");
  const failures: FieldFailure[] = [];
  if (!(await vault.db.selectFrom("hosts").select("id").where("site_id", "=", item.site_id).where("name", "=", spec.host).executeTakeFirst())) {
    failures.push({ property: "host", reason: `the site of '${name}' has no host named '${spec.host}'` });
  }
  const disks = await allDisks(vault, item.id);
  const paths = new Map(disks.map((d) => [d.name, d.path]));
  for (const disk of Object.keys(spec.diskPaths ?? {})) {
    if (!paths.has(disk)) failures.push({ property: `diskPaths.${disk}`, reason: `'${name}' has no disk named '${disk}'` });
    else paths.set(disk, spec.diskPaths![disk]);
  }
  // The engine reads the disks itself unless the new host has an agent: they must be readable here.
  if (!failures.length && !(await agentHostOf(vault, { site_id: item.site_id, host: spec.host }))) {
    for (const disk of disks.filter((d) => d.excluded === 0)) {
      await fs.access(paths.get(disk.name)!, constants.R_OK).catch(() => failures.push({ property: `diskPaths.${disk.name}`, reason: `${paths.get(disk.name)} cannot be read on this host` }));
    }
  }
  if (failures.length) throw new ValidationError("move", failures);
  await vault.db.transaction().execute(async (trx) => {
    // Work the old host's agent held is handed out afresh; its late report is refused (wrong host).
    const state = item.state === "InitialReplicationInProgress" ? "InitialReplicationPending" : item.state === "Resynchronizing" ? "ResyncRequired" : item.state;
    await trx.updateTable("items").set({ host: spec.host, lease_until: null, state }).where("id", "=", item.id).execute();
    for (const disk of disks) if (paths.get(disk.name) !== disk.path) await trx.updateTable("disks").set({ path: paths.get(disk.name)! }).where("id", "=", disk.id).execute();
  });
  return itemRow(vault, name);
}
