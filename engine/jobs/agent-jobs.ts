import type { Vault } from "../vault";
import { Job, SuspendSignal, type JobView } from "./jobs";
import { jobIdsOf, topTaskNames } from "../catalog/jobs";

/** Job types that wait for a machine's agent when the machine is on an agent's host. */
export const WAITING_TYPES = ["EnableProtection", "Replicate", "Resync"];

/** Ids of an item's jobs that wait for (or are being done by) its agent. */
export async function agentJobs(vault: Vault, itemName: string): Promise<string[]> {
  return jobIdsOf(vault.db, itemName, WAITING_TYPES, ["Suspended", "InProgress"]);
}

/** The agent delivered: each waiting job's remaining tasks are done and the job ends with the result. */
export async function completeAgentJobs(vault: Vault, itemName: string, result: unknown): Promise<void> {
  for (const id of await agentJobs(vault, itemName)) {
    const job = await Job.resume(vault.db, vault.clock, id);
    for (const task of await topTaskNames(vault.db, id, "!=", "Succeeded")) await job.step(task, async () => undefined);
    await job.finish("Succeeded", result);
  }
}

/** The agent failed: the jobs waiting for it fail with its error. */
export async function failAgentJobs(vault: Vault, itemName: string, error: unknown): Promise<void> {
  for (const id of await agentJobs(vault, itemName)) await new Job(vault.db, vault.clock, id).fail(error);
}

/**
 * Leave a job Suspended at `task` until the host's agent delivers (completeAgentJobs ends it then).
 * The machine is due for the agent from now on.
 */
export async function waitForAgent(job: Job, task: string, host: string): Promise<JobView> {
  const waitingFor = `the agent on host ${host}`;
  await job
    .step(task, async () => Promise.reject(new SuspendSignal(`waiting for ${waitingFor}`)))
    .catch((error) => {
      if (!(error instanceof SuspendSignal)) throw error;
    });
  await job.finish("Suspended", { waitingFor });
  return job.view();
}
