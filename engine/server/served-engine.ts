import type { AgentEngineApi, EngineApi, ItemCheckResult, ItemStatus, RpoHistory } from "../../schema";
import type { CatalogMetrics } from "../catalog/metrics";
import type { TokenHolder } from "../auth/tokens";
import type { Confine } from "../inventory/item-check";

/**
 * All the HTTP server may use of an engine: its declared API, the agents' side, and the few things a
 * daemon needs besides (its directory, readiness, metrics, token checks). The server never reaches the
 * vault or its catalog itself.
 */
export interface ServedEngine extends EngineApi, AgentEngineApi {
  /** The vault directory: the daemon's files (admin token, daemon record) live there; default allowed paths. */
  readonly dir: string;
  /** Resolves when the catalog answers (the readiness check); throws when it does not. */
  ready(): Promise<void>;
  /** What the catalog counts for /metrics. */
  catalogMetrics(): Promise<CatalogMetrics>;
  /** Who a presented bearer token stands for; undefined for an unknown, expired or revoked one. */
  authenticate(token: string): Promise<TokenHolder | undefined>;
  /** Whether a host of a site has a registered agent (its machines' disks are the agent's to read, not the daemon's to confine). */
  hasAgent(site: string, host: string | undefined): Promise<boolean>;
  /** The server passes its path rule, so a check or an update names a path outside the allowed directories. */
  checkItem(input: Record<string, unknown>, confine?: Confine): Promise<ItemCheckResult>;
  updateItem(name: string, input: unknown, confine?: Confine): Promise<ItemStatus>;
  /** `hours` as the query string gives it. */
  rpoHistory(name: string, hours?: string | number): Promise<RpoHistory>;
}
