import { z } from "zod";

/** Protection states of a protected item, in the order enable-protection passes them. */
export const ProtectionState = z.enum([
  "EnablingProtection",
  "InitialReplicationPending",
  "InitialReplicationInProgress",
  "Protected",
  "ResyncRequired",
  "Resynchronizing",
  /**
   * Failed over and migrated: no longer protected. Reported only: the catalog keeps a migration in the
   * failover state alone (engine/inventory/item-state.ts), and the API shows it in both.
   */
  "Migrated",
]);
export type ProtectionState = z.infer<typeof ProtectionState>;
/** Protection states a catalog row holds. "Migrated" is none: a migration lives in the failover state (see engine/inventory/item-state.ts reportedState). */
export type StoredProtectionState = Exclude<ProtectionState, "Migrated">;

/** Why an item in ResyncRequired needs its resync. */
export const ResyncReason = z.enum(["Requested", "ChainBroken", "PendingChangeData", "ResyncFailed", "ReplicaDamaged"]);
export type ResyncReason = z.infer<typeof ResyncReason>;

export const JobState = z.enum(["NotStarted", "InProgress", "Succeeded", "Failed", "Cancelled", "Suspended"]);
export type JobState = z.infer<typeof JobState>;

export const JobType = z.enum([
  "EnableProtection",
  "Replicate",
  "Resync",
  "Retention",
  "Materialize",
  "TestFailover",
  "TestFailoverCleanup",
  "Failover",
  "ChangeRecoveryPoint",
  "Commit",
  "Reprotect",
  "Failback",
  "Migrate",
  "RecoveryPlan",
  "DisableProtection",
  "Verify",
]);
export type JobType = z.infer<typeof JobType>;

export const PointKind = z.enum(["crash", "app"]);
export type PointKind = z.infer<typeof PointKind>;

/** Where a protected machine runs now. */
export const ActiveSite = z.enum(["primary", "recovery"]);
export type ActiveSite = z.infer<typeof ActiveSite>;

/** Failover progress of an item (null: none under way). */
export const FailoverState = z.enum(["FailedOver", "Committed", "Reprotected", "FailedBack", "FailbackCommitted", "Migrated"]);
export type FailoverState = z.infer<typeof FailoverState>;
