import type { Vault } from "../vault";
import { ItemSpec, ItemUpdate, failuresOf, parse, ValidationError, type FieldFailure, type ItemSpecInput } from "../../schema";
import { ConflictError } from "../errors";
import { allDisks, hooksOf, itemRow, recoveryFailures, type DiskRow, type ItemRow } from "./items";
import { policyRow } from "./policies";
import { agentHostOf } from "./hosts";
import { checkDisks } from "./disk-checks";
import type { Confine } from "./item-check";
import { assertAllowed } from "./item-state";
import { stopHeldWork } from "./item-state-write";
import { openDrill } from "../catalog/drills";
import { findHost } from "../catalog/hosts";
import { updateDisk } from "../catalog/disks";
import { updateItemColumns } from "../catalog/items";

/** Fields that say where and how the machine runs: fixed while it is failed over (until a failback is committed). */
const PLACEMENT = ["recovery", "nics", "excludedDisks", "generation", "osType", "group"] as const;
/** Fields of a move to another host: allowed at the primary and while replicating back (reprotected). */
const MOVE = ["host", "diskPaths", "qmp"] as const;

/** Refuse (409, naming the field) changes the item's failover state does not allow. Policy and hooks may always change. */
function assertUpdatable(item: ItemRow, update: ItemUpdate): void {
  const given = (fields: readonly string[]) => fields.find((f) => (update as Record<string, unknown>)[f] !== undefined);
  const any = given(Object.keys(update));
  if (any) assertAllowed(item, "update", { field: any });
  const move = given(MOVE);
  if (move) assertAllowed(item, "move", { field: move });
  const placement = given(PLACEMENT);
  if (placement) assertAllowed(item, "place", { field: placement });
}

/** The item as a protection spec with the update applied, for the schema's rules across fields (OS disk, hook pairs). */
function mergedSpec(item: ItemRow, disks: DiskRow[], paths: Map<string, string>, update: ItemUpdate): ItemSpecInput {
  const qmp = update.qmp ?? item.qmp;
  const group = update.group === undefined ? item.group_name : update.group;
  return {
    name: item.name,
    site: "site",
    policy: update.policy ?? "policy",
    generation: update.generation ?? (item.generation as 1 | 2),
    osType: update.osType ?? (item.os_type as "linux" | "windows"),
    ...(qmp === null ? {} : { qmp }),
    disks: disks.map((d) => ({ name: d.name, [qmp === null ? "path" : "node"]: paths.get(d.name)!, os: d.os === 1 })),
    excludedDisks: update.excludedDisks ?? disks.filter((d) => d.excluded === 1).map((d) => d.name),
    hooks: update.hooks ?? hooksOf(item),
    nics: update.nics ?? JSON.parse(item.nics),
    ...(group ? { group } : {}),
  };
}

/**
 * Change a protected item in place. A move to another host (a live migration, say) keeps its replication
 * state, so the next cycle, by the new host's agent or the engine, is a delta: no new initial replication.
 * Other settings apply from the next cycle or failover. Every failure is reported together; nothing is
 * written unless all pass.
 */
export async function updateItem(vault: Vault, name: string, input: unknown, confine?: Confine): Promise<ItemRow> {
  const update = parse(ItemUpdate, input, "item update");
  const item = await itemRow(vault, name);
  assertUpdatable(item, update);
  // A drill machine is stopped by the compute settings it was started with.
  if (update.recovery !== undefined && (await openDrill(vault.db, item.id))) {
    throw new ConflictError(`'${name}' has a drill running; clean it up before changing its recovery settings`, "recovery");
  }
  const failures: FieldFailure[] = [];
  const host = update.host ?? item.host;
  if (update.host !== undefined && !(await findHost(vault.db, item.site_id, update.host))) {
    failures.push({ property: "host", reason: `the site of '${name}' has no host named '${update.host}'` });
  }
  // The engine reads the disks itself unless the host has an agent: then they are paths of the daemon's host.
  const engineReads = !(await agentHostOf(vault, { site_id: item.site_id, host }));
  const disks = await allDisks(vault, item.id);
  const paths = new Map(disks.map((d) => [d.name, d.path]));
  const qmp = update.qmp ?? item.qmp;
  if (update.qmp !== undefined && item.qmp === null) failures.push({ property: "qmp", reason: `'${name}' is not served by QEMU (its disks are files)` });
  for (const [disk, file] of Object.entries(update.diskPaths ?? {})) {
    // A block node is not a path: the QMP socket is what is confined.
    const outside = engineReads && qmp === null ? confine?.(file) : undefined;
    if (!paths.has(disk)) failures.push({ property: `diskPaths.${disk}`, reason: `'${name}' has no disk named '${disk}'` });
    else if (outside) failures.push({ property: `diskPaths.${disk}`, reason: `${file} ${outside}` });
    else paths.set(disk, file);
  }
  const policy = update.policy === undefined ? undefined : await policyRow(vault, update.policy).catch(() => undefined);
  if (update.policy !== undefined && !policy) failures.push({ property: "policy", reason: `no replication policy named '${update.policy}'` });
  const merged = ItemSpec.safeParse(mergedSpec(item, disks, paths, update));
  if (!merged.success) failures.push(...failuresOf(merged.error));
  if (update.recovery) failures.push(...(await recoveryFailures(vault, update.recovery)));
  const excluded = new Set(merged.success ? merged.data.excludedDisks : []);
  // A moved or newly included disk the engine reads must be readable here.
  const disksChange = update.host !== undefined || update.diskPaths !== undefined || update.excludedDisks !== undefined || update.qmp !== undefined;
  if (!failures.length && disksChange && engineReads) {
    const located = disks.map((d) => ({ name: d.name, [qmp === null ? "path" : "node"]: paths.get(d.name)! }));
    const checked = await checkDisks(
      { qmp: qmp ?? undefined, disks: located, excludedDisks: [...disks.filter((d) => excluded.has(d.name)).map((d) => d.name)] },
      qmp === null ? undefined : confine,
    );
    for (const { failure } of checked) {
      if (!failure) continue;
      const disk = /^disks\.(\d+)\./.exec(failure.property);
      failures.push({ property: disk ? `diskPaths.${disks[Number(disk[1])].name}` : failure.property, reason: `${failure.reason} on this host` });
    }
  }
  if (failures.length) throw new ValidationError("item update", failures);

  await vault.db.transaction().execute(async (trx) => {
    const changes: Record<string, unknown> = {};
    if (update.host !== undefined && update.host !== item.host) {
      // Work the old host's agent held is handed out afresh; its late report is refused (wrong host).
      changes.host = update.host;
      changes.lease_until = null;
    }
    if (policy) changes.policy_id = policy.id;
    if (update.hooks) changes.hooks = JSON.stringify(update.hooks);
    if (update.recovery !== undefined) changes.recovery = update.recovery === null ? null : JSON.stringify(update.recovery);
    if (update.group !== undefined) changes.group_name = update.group;
    if (update.nics) changes.nics = JSON.stringify(update.nics);
    if (update.generation !== undefined) changes.generation = update.generation;
    if (update.osType !== undefined) changes.os_type = update.osType;
    if (update.qmp !== undefined) changes.qmp = update.qmp;
    if (Object.keys(changes).length) await updateItemColumns(trx, item.id, changes);
    if (changes.host !== undefined) await stopHeldWork(trx, item.id);
    for (const disk of disks) {
      const next = { path: paths.get(disk.name)!, excluded: excluded.has(disk.name) ? 1 : 0 };
      // Another node or another QEMU: the checkpoint's bitmap is not there, so the next cycle reads the whole disk.
      const retracked = qmp !== null && (next.path !== disk.path || (update.qmp !== undefined && update.qmp !== item.qmp));
      if (retracked) await updateDisk(trx, disk.id, { ...next, checkpoint: null });
      else if (next.path !== disk.path || (update.excludedDisks && next.excluded !== disk.excluded)) await updateDisk(trx, disk.id, next);
    }
  });
  return itemRow(vault, name);
}
