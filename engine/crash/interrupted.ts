import type { Vault } from "../vault";
import { errorMessage } from "../errors";
import { agentHostOf } from "../inventory/hosts";
import { WAITING_TYPES } from "../jobs/agent-jobs";
import { recordItemEvent } from "../inventory/events";
import { ownerState, ownerText } from "../process/owner";
import { repairAfter } from "./repairs";
import { failRunningTasks, findJob, runningJobs, topTaskNames, updateJob, updateJobIn } from "../catalog/jobs";
import { findItem } from "../catalog/items";

/** A running job nobody runs any more. */
export interface StaleJob {
  id: string;
  type: string;
  target: string;
  /** Why it is stale, for its error message. */
  why: string;
  /** Set when an agent held it and its lease ran out: it waits for the agent again instead of ending. */
  agent?: string;
}

/**
 * InProgress jobs whose owner is gone: their process ended (or its pid now names another process), on
 * this host; another host's processes cannot be checked and are left alone. A job an agent holds is
 * stale once the item's lease ran out. A job with no owner at all was started before owners were
 * recorded; every such job ran under the vault lock, so when the caller holds it, that process is gone.
 */
export async function staleJobs(vault: Vault): Promise<StaleJob[]> {
  const rows = await runningJobs(vault.db);
  const stale: StaleJob[] = [];
  for (const row of rows) {
    const job = { id: row.id, type: row.type, target: row.target };
    if (row.owner_host !== null && row.owner_pid !== null) {
      const owner = { host: row.owner_host, pid: row.owner_pid, start: row.owner_start };
      if (ownerState(owner) === "gone") stale.push({ ...job, why: `its ${ownerText(owner)} ended without finishing it` });
      continue;
    }
    const item = WAITING_TYPES.includes(row.type) ? await findItem(vault.db, row.target) : undefined;
    const agent = item && (await agentHostOf(vault, item));
    if (!agent) stale.push({ ...job, why: "no process owns it any more (it was started before jobs recorded their owner)" });
    else if ((item.lease_until ?? 0) <= vault.clock.now())
      stale.push({ ...job, agent: agent.name, why: `the agent on host ${agent.name} let its lease run out` });
  }
  return stale;
}

/**
 * End stale jobs (the caller holds the vault lock): what each left half-done is put back (crash/repairs.ts),
 * its running tasks fail, and the job ends Failed (Cancelled when someone cancelled it) with error
 * Interrupted; the item's history says so. Agent work goes back to waiting for its agent.
 */
export async function endStaleJobs(vault: Vault, jobs: StaleJob[], options: { cancelled?: boolean } = {}): Promise<void> {
  for (const job of jobs) {
    if (job.agent) {
      await updateJobIn(vault.db, job.id, "InProgress", { state: "Suspended" });
      continue;
    }
    const current = await findJob(vault.db, job.id);
    if (current?.state !== "InProgress") continue;
    const item = await findItem(vault.db, job.target);
    const done = new Set(await topTaskNames(vault.db, job.id, "=", "Succeeded"));
    const repaired = item ? await repairAfter(job.type, vault, item, done).catch((error) => `putting the item back failed: ${errorMessage(error)}`) : undefined;
    const message = `interrupted: ${job.why}${options.cancelled ? "; cancelled" : ""}${repaired ? `; ${repaired}` : ""}`;
    const now = vault.clock.now();
    await vault.db.transaction().execute(async (trx) => {
      await failRunningTasks(trx, job.id, now, "interrupted");
      await updateJob(trx, job.id, { state: options.cancelled ? "Cancelled" : "Failed", ended_at: now, error_code: "Interrupted", error_message: message });
      if (item) await recordItemEvent(trx, item.id, now, "JobInterrupted", `${job.type} job ${job.id} ${message}`);
    });
  }
}
