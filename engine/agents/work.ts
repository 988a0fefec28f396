import type { Vault } from "../vault";
import { MINUTE } from "../clock";
import { AgentHeartbeat, BlockLookup, parse, type AgentWorkMode } from "../../schema";
import { EngineError, NotFoundError } from "../errors";
import { hooksOf, includedDisks, itemRow } from "../inventory/items";
import { diskSource } from "../tracking/disk-source";
import type { ItemOperation } from "../inventory/item-state";
import { writeItemState } from "../inventory/item-state-write";
import { loadDiskState } from "../replication/manifests";
import { dueWork, scheduledItems, type ScheduledItem } from "../replication/due";
import type { IndexEntry } from "../store/packed/pack-index";
import { encodeMap, type EncodedMap } from "./wire";
import { HEARTBEAT_MS } from "../inventory/hosts";
import { agentJobs } from "../jobs/agent-jobs";
import { recordItemEvent } from "../inventory/events";
import type { AgentWork, HeartbeatAnswer } from "../../schema";
export type { AgentWork, HeartbeatAnswer };
import { findRegisteredHost, setHostSeen } from "../catalog/hosts";
import { endHostLeases, extendLeases, findItemOnHost, updateItemColumns } from "../catalog/items";
import { updateJob } from "../catalog/jobs";

/** An item handed to an agent stays its for this long, extended while the agent reports it busy. */
export const LEASE_MS = 5 * MINUTE;

/** The registered host an agent's token stands for. */
export async function registeredHost(vault: Vault, host: string): Promise<{ id: number; siteId: number; name: string }> {
  const row = await findRegisteredHost(vault.db, host);
  if (!row) throw new NotFoundError("agent host", host);
  return { id: row.id, siteId: row.site_id, name: row.name };
}

/**
 * An agent calls in: the host is seen, the leases of what it is busy with are extended, and the work
 * due for its machines is handed out (and leased, so it is handed out once).
 */
export async function heartbeat(vault: Vault, hostName: string, input: unknown): Promise<HeartbeatAnswer> {
  const { busy, takeWork, windowsClosed, fresh } = parse(AgentHeartbeat, input ?? {}, "heartbeat");
  const host = await registeredHost(vault, hostName);
  const now = vault.clock.now();
  await setHostSeen(vault.db, host.id, now);
  for (const closed of windowsClosed) {
    // Only this host's machines; one unprotected meanwhile has no history to add to.
    const item = await findItemOnHost(vault.db, closed.item, host.name, host.siteId);
    if (item) await recordItemEvent(vault.db, item.id, now, "WindowClosedAfterCrash", `agent on ${host.name}: ${closed.message}`);
  }
  // A restarted agent holds nothing: its old leases end now (not unset: an expired lease marks work abandoned mid-way, due again).
  if (fresh) await endHostLeases(vault.db, host.name, host.siteId, now);
  if (busy.length) await extendLeases(vault.db, host.name, host.siteId, busy, now + LEASE_MS);
  const work: AgentWork[] = [];
  if (!takeWork) return { now, heartbeatMs: HEARTBEAT_MS, work };
  const due = dueWork(await scheduledItems(vault, { host }), now, { leased: true });
  const hand = async (mode: AgentWorkMode, items: ScheduledItem[], appConsistent: boolean, start?: ItemOperation) => {
    for (const item of items) {
      const also = { lease_until: now + LEASE_MS };
      if (start) await writeItemState(vault.db, item.id, start, { also });
      else await updateItemColumns(vault.db, item.id, also);
      // The agent does the work now: the job is held by the item's lease, not by a process here.
      for (const job of await agentJobs(vault, item.name))
        await updateJob(vault.db, job, { state: "InProgress", owner_host: null, owner_pid: null, owner_start: null });
    }
    work.push({ mode, appConsistent, items: await Promise.all(items.map((i) => agentWorkItem(vault, i))) });
  };
  for (const item of due.initial) await hand("initial", [item], false, "startInitial");
  for (const item of due.resync) await hand("resync", [item], false, "startAgentResync");
  for (const cycle of due.cycles) await hand("delta", cycle.items, cycle.appConsistent);
  return { now, heartbeatMs: HEARTBEAT_MS, work };
}

async function agentWorkItem(vault: Vault, item: ScheduledItem): Promise<AgentWork["items"][number]> {
  const disks = await includedDisks(vault, item.id);
  return {
    name: item.name,
    hooks: hooksOf(item),
    disks: disks.map((d) => {
      const source = diskSource(item, d);
      const tracked = source.kind === "qemu" ? { tracked: { qmp: source.qmp, checkpoint: source.checkpoint } } : {};
      return { name: d.name, path: d.path, stateVersion: d.state_version, ...tracked };
    }),
  };
}

/** A disk's replication state (ids and change hashes as last read), which the agent's next capture compares against. */
export async function diskState(vault: Vault, hostName: string, itemName: string, diskName: string): Promise<{ version: number; map: EncodedMap | null }> {
  const host = await registeredHost(vault, hostName);
  const item = await itemRow(vault, itemName);
  if (item.host !== host.name || item.site_id !== host.siteId)
    throw new EngineError("Forbidden", `'${itemName}' is not on host '${hostName}'`, { field: "item" });
  const disk = (await includedDisks(vault, item.id)).find((d) => d.name === diskName);
  if (!disk) throw new NotFoundError("disk", `${itemName}/${diskName}`);
  const map = await loadDiskState(vault, disk.id, vault.blockSize);
  return { version: disk.state_version, map: map && encodeMap(map) };
}

/** Which blocks the store has, and where: agents skip what is there and read stored copies for resync. */
export async function lookupBlocks(vault: Vault, input: unknown): Promise<IndexEntry[]> {
  const { ids } = parse(BlockLookup, input, "block lookup");
  return vault.packs.locate(ids);
}
