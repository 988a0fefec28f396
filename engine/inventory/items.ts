import type { Vault } from "../vault";
import { findItem, insertItemRow, itemById, type ItemRow } from "../catalog/items";
import { allDisks as disksOf, includedDisks as includedDisksOf, insertDisks, type DiskRow } from "../catalog/disks";
import { findSite } from "../catalog/sites";
import { findHost } from "../catalog/hosts";
import { diskLocation } from "./disk-checks";
import { ItemSpec, parse, ValidationError, type FieldFailure, type Hooks, type RecoverySettings } from "../../schema";
import { networkRow } from "./networks";
import { inSubnet } from "./addresses";
import { NotFoundError } from "../errors";
import { checkDisks } from "./disk-checks";
import { policyRow } from "./policies";
import type { StoredProtectionState } from "./item-state";
import { agentHostOf } from "./hosts";

export type { ItemRow, DiskRow };

export interface ValidatedItem {
  spec: ItemSpec;
  siteId: number;
  policyId: number;
  sizes: Map<string, number>;
}

/**
 * Every check enable-protection needs before anything is written: the schema, names and references,
 * and that each included disk can be read and has a known size. All failures are reported together.
 */
export async function validateItem(vault: Vault, input: unknown): Promise<ValidatedItem> {
  const spec = parse(ItemSpec, input, "protected item");
  const failures: FieldFailure[] = [];
  if (await findItem(vault.db, spec.name)) {
    failures.push({ property: "name", reason: `a protected item named '${spec.name}' already exists` });
  }
  const site = await findSite(vault.db, spec.site);
  if (!site) failures.push({ property: "site", reason: `no site named '${spec.site}'` });
  else if (site.kind === "recovery") failures.push({ property: "site", reason: `'${spec.site}' is a recovery site; protected machines live on a source site` });
  else if (site.kind === "kvm" && spec.qmp === undefined)
    failures.push({ property: "qmp", reason: `'${spec.site}' is a kvm site: give the QMP socket of the QEMU serving the machine, and its disks' block nodes` });
  else if (site.kind !== "kvm" && spec.qmp !== undefined)
    failures.push({ property: "qmp", reason: `'${spec.site}' is a ${site.kind} site; a machine served by QEMU belongs on a kvm site` });
  else if (spec.host && !(await findHost(vault.db, site.id, spec.host))) {
    failures.push({ property: "host", reason: `site '${spec.site}' has no host named '${spec.host}'` });
  }
  const policy = await policyRow(vault, spec.policy).catch(() => undefined);
  if (!policy) failures.push({ property: "policy", reason: `no replication policy named '${spec.policy}'` });
  if (spec.recovery) failures.push(...(await recoveryFailures(vault, spec.recovery)));
  const sizes = new Map<string, number>();
  // A machine on an agent's host has its disks there: the agent checks them when it starts.
  const remote = site && (await agentHostOf(vault, { site_id: site.id, host: spec.host ?? null }));
  for (const checked of remote ? [] : await checkDisks(spec)) {
    if (checked.failure) failures.push(checked.failure);
    else sizes.set(checked.disk, checked.size);
  }
  if (failures.length) throw new ValidationError("protected item", failures);
  return { spec, siteId: site!.id, policyId: policy!.id, sizes };
}

/** The failure columns of an item with no failure on record (a new item, or one whose cycle succeeded). */
export const NO_FAILURE = { failures: 0, next_attempt_at: null, error_code: null, error_message: null, error_recoverable: 0, error_since: null } as const;

/** Recovery settings must name a recovery site, and a network of that site whose subnet holds the IP. */
export async function recoveryFailures(vault: Vault, recovery: RecoverySettings): Promise<FieldFailure[]> {
  const failures: FieldFailure[] = [];
  const site = await findSite(vault.db, recovery.site);
  if (!site) failures.push({ property: "recovery.site", reason: `no site named '${recovery.site}'` });
  else if (site.kind !== "recovery") failures.push({ property: "recovery.site", reason: `'${recovery.site}' is not a recovery site` });
  if (recovery.network) {
    const network = await networkRow(vault, recovery.network).catch(() => undefined);
    if (!network) failures.push({ property: "recovery.network", reason: `no recovery network named '${recovery.network}'` });
    else {
      if (network.site !== recovery.site)
        failures.push({ property: "recovery.network", reason: `network '${network.name}' belongs to site '${network.site}', not '${recovery.site}'` });
      if (recovery.subnet && !network.subnets.includes(recovery.subnet))
        failures.push({ property: "recovery.subnet", reason: `network '${network.name}' has no subnet ${recovery.subnet}` });
      const subnet = recovery.subnet ?? network.subnets[0];
      if (recovery.ip && !inSubnet(recovery.ip, subnet))
        failures.push({ property: "recovery.ip", reason: `${recovery.ip} is not a host address of ${subnet}` });
    }
  } else if (recovery.subnet || recovery.ip) {
    failures.push({ property: "recovery.network", reason: "a target subnet or IP needs a target network" });
  }
  return failures;
}

/** Insert a new item in its first state (item-state.ts protectedState). */
export async function insertItem(vault: Vault, item: ValidatedItem, state: StoredProtectionState): Promise<ItemRow> {
  const { spec } = item;
  await vault.db.transaction().execute(async (trx) => {
    const id = await insertItemRow(trx, {
      name: spec.name,
      site_id: item.siteId,
      host: spec.host ?? null,
      policy_id: item.policyId,
      generation: spec.generation,
      os_type: spec.osType,
      group_name: spec.group ?? null,
      hooks: JSON.stringify(spec.hooks),
      state,
      resync_reason: null,
      ...NO_FAILURE,
      last_attempt_at: null,
      last_app_point_at: null,
      created_at: vault.clock.now(),
      recovery: spec.recovery ? JSON.stringify(spec.recovery) : null,
      nics: JSON.stringify(spec.nics),
      failover_state: null,
      failover_point: null,
      last_drill_at: null,
      qmp: spec.qmp ?? null,
    });
    await insertDisks(
      trx,
      spec.disks.map((d) => ({
        item_id: id,
        name: d.name,
        path: diskLocation(d),
        primary_path: null,
        os: d.os ? 1 : 0,
        excluded: spec.excludedDisks.includes(d.name) ? 1 : 0,
        state_size: null,
        state_xxh: null,
        state_chunks: null,
      })),
    );
  });
  return itemRow(vault, spec.name);
}

export async function itemRow(vault: Vault, name: string): Promise<ItemRow> {
  const row = await findItem(vault.db, name);
  if (!row) throw new NotFoundError("protected item", name);
  return row;
}

export async function itemRowById(vault: Vault, id: number): Promise<ItemRow> {
  return itemById(vault.db, id);
}

/** The disks replication copies (excluded disks are left out). */
export function includedDisks(vault: Vault, itemId: number): Promise<DiskRow[]> {
  return includedDisksOf(vault.db, itemId);
}

export function allDisks(vault: Vault, itemId: number): Promise<DiskRow[]> {
  return disksOf(vault.db, itemId);
}

export const hooksOf = (item: ItemRow): Hooks => JSON.parse(item.hooks) as Hooks;

export const recoveryOf = (item: ItemRow): RecoverySettings | null => (item.recovery ? (JSON.parse(item.recovery) as RecoverySettings) : null);
