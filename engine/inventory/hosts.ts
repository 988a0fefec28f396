import type { Vault } from "../vault";
import { SECOND } from "../clock";
import type { ItemRow } from "./items";
import { findAgentHost } from "../catalog/hosts";
import { findSite } from "../catalog/sites";

/** How often agents call in, and how long a host may stay silent before its items' health says so. */
export const HEARTBEAT_MS = 5 * SECOND;
export const SILENCE_MS = 6 * HEARTBEAT_MS;

export interface AgentHost {
  name: string;
  siteId: number;
  registeredAt: number;
  lastSeenAt: number | null;
}

/** The agent that replicates an item: the registered agent of its host, or null when the engine reads it. */
export async function agentHostOf(vault: Vault, item: Pick<ItemRow, "site_id" | "host">): Promise<AgentHost | null> {
  if (!item.host) return null;
  const row = await findAgentHost(vault.db, item.site_id, item.host);
  if (!row || row.agent_registered_at === null) return null;
  return { name: row.name, siteId: row.site_id, registeredAt: row.agent_registered_at, lastSeenAt: row.last_seen_at };
}

/** A host whose agent has not called in for SILENCE_MS (or never has since it registered). */
export function isSilent(host: AgentHost, now: number): boolean {
  return now - (host.lastSeenAt ?? host.registeredAt) > SILENCE_MS;
}

/** Whether a host of a site (both by name) has a registered agent: its machines' disks are the agent's to read. */
export async function hostHasAgent(vault: Vault, site: unknown, host: unknown): Promise<boolean> {
  if (typeof site !== "string" || typeof host !== "string") return false;
  const row = await findSite(vault.db, site);
  return row !== undefined && (await agentHostOf(vault, { site_id: row.id, host })) !== null;
}
