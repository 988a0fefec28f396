import type { Vault } from "../vault";
import { anyPolicyNamed, findPolicy, insertPolicy, policyNameById, policyNames, updatePoliciesNamed, type PolicyRow } from "../catalog/policies";
import { parse, PolicySpec, PolicyUpdate, ValidationError, type CopyFrequency } from "../../schema";
import { NotFoundError } from "../errors";
import { iso } from "../clock";
import type { PolicyView } from "../../schema";
export type { PolicyView };

export type { PolicyRow };

const FAILBACK_SUFFIX = "-failback";

function columns(spec: PolicySpec) {
  return {
    copy_frequency: spec.copyFrequency,
    retention_hours: spec.retentionHours,
    app_consistent_hours: spec.appConsistentHours,
    rpo_threshold_minutes: spec.rpoThresholdMinutes,
    initial_replication_start: spec.initialReplicationStart ? Date.parse(spec.initialReplicationStart) : null,
    resync_start: spec.resyncWindow.start,
    resync_end: spec.resyncWindow.end,
  };
}

/** Create a policy and, like ASR, its failback policy `<name>-failback` with the same settings. */
export async function addPolicy(vault: Vault, input: unknown): Promise<{ policy: PolicyView; failback: PolicyView }> {
  const spec = parse(PolicySpec, input, "policy");
  const taken = await anyPolicyNamed(vault.db, [spec.name, spec.name + FAILBACK_SUFFIX]);
  if (taken) throw new ValidationError("policy", [{ property: "name", reason: `a policy named '${taken.name}' already exists` }]);
  await vault.db.transaction().execute(async (trx) => {
    const now = vault.clock.now();
    const id = await insertPolicy(trx, { name: spec.name, ...columns(spec), failback_of: null, created_at: now });
    await insertPolicy(trx, { name: spec.name + FAILBACK_SUFFIX, ...columns(spec), failback_of: id, created_at: now });
  });
  return { policy: await getPolicy(vault, spec.name), failback: await getPolicy(vault, spec.name + FAILBACK_SUFFIX) };
}

/** Change a policy; the machines using it follow at once because they refer to it. Its failback policy follows too. */
export async function updatePolicy(vault: Vault, name: string, input: unknown): Promise<PolicyView> {
  const update = parse(PolicyUpdate, input, "policy update");
  const current = await getPolicy(vault, name);
  if (current.failbackOf)
    throw new ValidationError("policy update", [{ property: "name", reason: `'${name}' is a failback policy; change '${current.failbackOf}' instead` }]);
  const { failbackOf: _, ...settings } = current;
  const merged = parse(PolicySpec, { ...settings, initialReplicationStart: settings.initialReplicationStart ?? undefined, ...update }, "policy update");
  await updatePoliciesNamed(vault.db, [name, name + FAILBACK_SUFFIX], columns(merged));
  return getPolicy(vault, name);
}

export async function policyRow(vault: Vault, name: string): Promise<PolicyRow> {
  const row = await findPolicy(vault.db, name);
  if (!row) throw new NotFoundError("policy", name);
  return row;
}

export function policyView(row: PolicyRow, failbackOf: string | null): PolicyView {
  return {
    name: row.name,
    copyFrequency: row.copy_frequency as CopyFrequency,
    retentionHours: row.retention_hours,
    appConsistentHours: row.app_consistent_hours,
    rpoThresholdMinutes: row.rpo_threshold_minutes,
    initialReplicationStart: iso(row.initial_replication_start),
    resyncWindow: { start: row.resync_start, end: row.resync_end },
    failbackOf,
  };
}

export async function getPolicy(vault: Vault, name: string): Promise<PolicyView> {
  const row = await policyRow(vault, name);
  const parent = row.failback_of === null ? undefined : await policyNameById(vault.db, row.failback_of);
  return policyView(row, parent?.name ?? null);
}

export async function listPolicies(vault: Vault): Promise<PolicyView[]> {
  return Promise.all((await policyNames(vault.db)).map((name) => getPolicy(vault, name)));
}
