import type { Vault } from "../vault";
import { Job, type JobView } from "../jobs/jobs";
import { agentHostOf } from "../inventory/hosts";
import { waitForAgent } from "../jobs/agent-jobs";
import { includedDisks, insertItem, itemRowById, validateItem, type ItemRow } from "../inventory/items";
import { protectedState } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { policyRow } from "../inventory/policies";
import { holdingLock, replicateWindow, scanDisks, type Serialize, sum } from "./cycle";
import { recordFailure } from "./retry";
import { findJobOf } from "../catalog/jobs";

const PREREQUISITES = "Prerequisites check";
const RELATIONSHIP = "Create replication relationship";
const INITIAL = "Initial replication";
const FINALIZE = "Finalize protection";

/**
 * Enable protection, as a job: prerequisites → replication relationship → initial replication (disk by
 * disk, with progress) → finalize (a consistent window that ships what changed meanwhile and makes the
 * first recovery point). With an initial replication start in the future the job is Suspended until then.
 * Nothing is written unless every input check passes.
 */
export async function enableProtection(vault: Vault, input: unknown): Promise<JobView> {
  const validated = await validateItem(vault, input);
  const job = await Job.start(vault.db, vault.clock, "EnableProtection", validated.spec.name, [PREREQUISITES, RELATIONSHIP, INITIAL, FINALIZE]);
  const agent = await agentHostOf(vault, { site_id: validated.siteId, host: validated.spec.host ?? null });
  try {
    await job.step(PREREQUISITES, async (task) => {
      const disks = validated.spec.disks.filter((d) => !validated.spec.excludedDisks.includes(d.name));
      if (agent) return task.progress(1, `${disks.length} disk(s), read by the agent on host ${agent.name}`);
      const bytes = sum([...validated.sizes.values()], (n) => n); // each disk checked readable by validateItem
      await task.progress(1, `${disks.length} disk(s), ${bytes} bytes to replicate`);
    });
    const item = await job.step(RELATIONSHIP, () => insertItem(vault, validated, protectedState(Boolean(agent))));
    if (agent) return await waitForAgent(job, INITIAL, agent.name);
    const start = (await policyRow(vault, validated.spec.policy)).initial_replication_start;
    if (start !== null && start > vault.clock.now()) {
      await writeItemState(vault.db, item.id, "deferInitial");
      await job.finish("Suspended", { waitingUntil: new Date(start).toISOString() });
      return await job.view();
    }
    await initialReplication(vault, job, item);
  } catch (error) {
    await job.fail(error);
  }
  return await job.view();
}

/**
 * Continue a machine's protection: its suspended enable-protection job, or a new one after a failure.
 * `locked` serializes its writes: the scheduler reads the disks without the vault lock and takes it to write.
 */
export async function resumeInitialReplication(vault: Vault, item: ItemRow, locked: Serialize = holdingLock): Promise<JobView> {
  const suspended = await findJobOf(vault.db, item.name, ["EnableProtection"], "Suspended");
  const job = suspended
    ? await Job.resume(vault.db, vault.clock, suspended.id)
    : await Job.start(vault.db, vault.clock, "EnableProtection", item.name, [INITIAL, FINALIZE]);
  await initialReplication(vault, job, item, locked).catch((error) => job.fail(error));
  return await job.view();
}

/**
 * After the process running a protection died mid-way: the item goes back to InitialReplicationPending,
 * from which the scheduler resumes it (blocks already stored are not shipped again).
 */
export async function afterInterruptedProtection(vault: Vault, item: ItemRow): Promise<string | undefined> {
  const { changed } = await writeItemState(vault.db, item.id, "initialStopped");
  return changed ? "the initial replication resumes at the scheduler's next pass" : undefined;
}

async function initialReplication(vault: Vault, job: Job, item: ItemRow, locked: Serialize = holdingLock): Promise<void> {
  try {
    await locked(() => writeItemState(vault.db, item.id, "startInitial"));
    const disks = await includedDisks(vault, item.id);
    const scans = await job.step(INITIAL, (task) => scanDisks(vault, item, disks, "full", async () => null, task, locked));
    const [point] = await job.step(FINALIZE, async () =>
      replicateWindow(vault, [await itemRowById(vault, item.id)], { appConsistent: false, recordWith: locked }),
    );
    await job.finish("Succeeded", {
      point: point.id,
      bytesRead: sum(scans, (s) => s.bytesRead),
      bytesStored: sum(scans, (s) => s.bytesStored) + point.bytesStored,
    });
  } catch (error) {
    await locked(async () => {
      await writeItemState(vault.db, item.id, "initialStopped");
      await recordFailure(vault, [item], error);
    });
    throw error;
  }
}
