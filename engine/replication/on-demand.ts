import type { Vault } from "../vault";
import { ValidationError } from "../../schema";
import { oneTaskJob, type JobView } from "../jobs/jobs";
import { hooksOf, type ItemRow } from "../inventory/items";
import { agentHostOf } from "../inventory/hosts";
import { assertAllowed, replicateNowWork, reportedState } from "../inventory/item-state";
import { groupItemsInState } from "../catalog/items";
import { requestAgentResync, requestAgentSync } from "./agent-requests";
import { replicateWindow } from "./cycle";
import { resumeInitialReplication } from "./protect";
import { recordFailure } from "./retry";
import { resync } from "./resync";

/**
 * One replication cycle now ("replicate now"), as a Replicate job. A machine its agent reads is the
 * agent's to capture; one not yet initially replicated continues that; one in a replication group is
 * captured with the group's other protected machines in one window.
 */
export async function replicateNow(vault: Vault, item: ItemRow, options: { appConsistent?: boolean } = {}): Promise<JobView> {
  if (options.appConsistent && !hooksOf(item).quiesce) {
    throw ValidationError.refused("appConsistent", `'${item.name}' has no quiesce/unquiesce hooks, so it cannot take an app-consistent point`);
  }
  assertAllowed(item, "replicateNow");
  const agent = await agentHostOf(vault, item);
  if (agent) return requestAgentSync(vault, item, agent, options.appConsistent ?? false);
  if (replicateNowWork(item) === "initial") return resumeInitialReplication(vault, item);
  const unit = await itemsReplicatedWith(vault, item);
  const appConsistent = options.appConsistent ?? false;
  // Never beside a scheduled window of the same machines (the caller waits for it and asks again).
  return vault.cycles.hold(
    unit.map((r) => r.id),
    () =>
      oneTaskJob(
        vault.db,
        vault.clock,
        "Replicate",
        item.name,
        "Replicate",
        async () => ({ points: await replicateWindow(vault, unit, { appConsistent }) }),
        (error) => recordFailure(vault, unit, error),
      ),
  );
}

/** The machines captured with this one: its replication group's protected members (not a migrated one), or itself. */
async function itemsReplicatedWith(vault: Vault, item: ItemRow): Promise<ItemRow[]> {
  if (!item.group_name) return [item];
  const members = await groupItemsInState(vault.db, item.group_name, "Protected");
  return members.filter((m) => reportedState(m) === "Protected");
}

/** A resync on demand: the agent's to run (due at once) for a machine it reads, run here otherwise. */
export async function resyncNow(vault: Vault, item: ItemRow): Promise<JobView> {
  const agent = await agentHostOf(vault, item);
  return agent ? requestAgentResync(vault, item, agent) : resync(vault, item);
}
