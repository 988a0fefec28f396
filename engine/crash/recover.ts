import type { Vault } from "../vault";
import { requestCancel } from "../failover/failover";
import { closedWindowReports } from "../disks/window-journal";
import { recordEventFor } from "../inventory/events";
import { endStaleJobs, staleJobs } from "./interrupted";

/**
 * Clean up after processes that died: every consistency window they left open is closed (the machines
 * resume) and every job they left InProgress ends Interrupted, its item put back. Runs when the vault is
 * opened (a CLI command, the daemon's start), before each locked operation and on each scheduler pass.
 * Windows need no vault lock (the machines must not wait for a long operation); ending jobs does, so
 * `lock` says whether the caller holds it ("held"), waits for it ("wait") or skips the jobs when another
 * process holds it ("try": that process cleans up at its next locked operation).
 */
export async function recoverAfterCrash(vault: Vault, lock: "held" | "wait" | "try"): Promise<void> {
  await closeLeftOpenWindows(vault);
  if (!(await staleJobs(vault)).length) return;
  const end = async () => endStaleJobs(vault, await staleJobs(vault));
  if (lock === "held") await end();
  else if (lock === "wait") await vault.lock.run(end);
  else await vault.lock.tryRun(end);
}

/** Run the undo hooks of windows dead processes left open, and note each in its items' history. */
async function closeLeftOpenWindows(vault: Vault): Promise<void> {
  for (const record of await vault.windows.closeLeftOpen()) {
    for (const { item, message } of closedWindowReports(record)) await recordEventFor(vault.db, item, vault.clock.now(), "WindowClosedAfterCrash", message);
    await vault.windows.forget(record.id);
  }
}

/**
 * Cancel a job. A running failover, drill or failback is asked to stop before its start task; a job
 * whose process is gone would never look, so it is ended now (Cancelled, error Interrupted), whatever its type.
 */
export async function cancelJob(vault: Vault, jobId: string): Promise<void> {
  const stale = (await staleJobs(vault)).find((j) => j.id === jobId && !j.agent);
  if (!stale) return requestCancel(vault, jobId);
  // Whoever took the lock first may have ended it meanwhile: then it is over already.
  await vault.lock.run(async () =>
    endStaleJobs(
      vault,
      (await staleJobs(vault)).filter((j) => j.id === jobId),
      { cancelled: true },
    ),
  );
}
