import type { z } from "zod";
import { FailbackRequest, FailoverRequest } from "./recovery";
import { ActiveSite } from "./state";

/**
 * Declarative failover: the site a machine (or a plan's machines) should run at, and how to get there.
 * Absent `activeSite` means "not managed here": nothing moves, whatever the engine reports.
 */
export const FailoverIntent = FailoverRequest.extend({
  /** planned by default: zero data loss, and refused (with the reason) when the source cannot be shut down. */
  type: FailoverRequest.shape.type.default("planned"),
});
export type FailoverIntent = z.infer<typeof FailoverIntent>;

export const ActiveSiteIntent = {
  activeSite: ActiveSite.optional(),
  /** How to fail over when activeSite turns to recovery. */
  failover: FailoverIntent.optional(),
  /** How to fail back when activeSite turns to primary (default: original location, by delta). */
  failback: FailbackRequest.optional(),
};

/** The intent's keys: inputs of the provider's resources, never sent to the engine with a spec. */
export const INTENT_KEYS = ["activeSite", "failover", "failback", "failoverImpact"] as const;
