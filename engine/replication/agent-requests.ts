import type { Vault } from "../vault";
import { Job, type JobView } from "../jobs/jobs";
import type { ItemRow } from "../inventory/items";
import { writeItemState } from "../inventory/item-state-write";
import { ValidationError } from "../../schema";
import type { AgentHost } from "../inventory/hosts";
import { waitForAgent } from "../jobs/agent-jobs";
import { updateItemColumns } from "../catalog/items";

/** "Replicate now" for a machine its agent reads: due at once; the job ends when the agent's point lands. */
export async function requestAgentSync(vault: Vault, item: ItemRow, host: AgentHost, appConsistent: boolean): Promise<JobView> {
  if (appConsistent) {
    throw ValidationError.refused(
      "appConsistent",
      `'${item.name}' is read by the agent on host ${host.name}: its app-consistent points follow the policy's app-consistent frequency`,
    );
  }
  const job = await Job.start(vault.db, vault.clock, "Replicate", item.name, ["Replicate"]);
  await updateItemColumns(vault.db, item.id, { last_attempt_at: null });
  return waitForAgent(job, "Replicate", host.name);
}

/** Resync on demand of a machine its agent reads: due at once, whatever the resync window. */
export async function requestAgentResync(vault: Vault, item: ItemRow, host: AgentHost): Promise<JobView> {
  const job = await Job.start(vault.db, vault.clock, "Resync", item.name, ["Compare source and replica", "Create recovery point"]);
  await writeItemState(vault.db, item.id, "requestResync");
  return waitForAgent(job, "Compare source and replica", host.name);
}
