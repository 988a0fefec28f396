import { ConflictError, EngineError } from "../errors";
import type { ActiveSite, FailoverState, ProtectionState, ResyncReason, StoredProtectionState } from "../../schema";

/**
 * The state machine of a protected item: its protection state (replication) and its failover state, each
 * state's flags, and every operation's allowed transitions with the refusal of each disallowed one. Every
 * write of an item's state goes through writeItemState (item-state-write.ts), which asks this module.
 */

export type { StoredProtectionState };
/** An item's failover progress; null: none, the machine runs at the primary site. */
export type ItemFailoverState = FailoverState | null;

/** What work a protection state waits for, and what work runs in it (a job here, or an agent's lease). */
interface ProtectionFlags {
  /** No work runs in it: the item stays so until something happens (a crash leaves only stable states). */
  stable: boolean;
  waitsFor: "initial" | "resync" | "cycle" | null;
  running: "initial" | "resync" | null;
}

export const PROTECTION_STATES: Record<StoredProtectionState, ProtectionFlags> = {
  EnablingProtection: { stable: false, waitsFor: null, running: "initial" },
  InitialReplicationPending: { stable: true, waitsFor: "initial", running: null },
  InitialReplicationInProgress: { stable: false, waitsFor: null, running: "initial" },
  Protected: { stable: true, waitsFor: "cycle", running: null },
  ResyncRequired: { stable: true, waitsFor: "resync", running: null },
  Resynchronizing: { stable: false, waitsFor: null, running: "resync" },
};

interface FailoverFlags {
  /** Nothing can follow it. */
  terminal: boolean;
  /** Replication runs (toward the recovery site, or back to the primary once reprotected). */
  replicates: boolean;
  /** Where the machine runs: the item's active_site goes with its failover state. */
  site: ActiveSite;
}

export const FAILOVER_STATES: Record<FailoverState | "none", FailoverFlags> = {
  none: { terminal: false, replicates: true, site: "primary" },
  FailedOver: { terminal: false, replicates: false, site: "recovery" },
  Committed: { terminal: false, replicates: false, site: "recovery" },
  Reprotected: { terminal: false, replicates: true, site: "recovery" },
  FailedBack: { terminal: false, replicates: false, site: "primary" },
  FailbackCommitted: { terminal: false, replicates: false, site: "primary" },
  Migrated: { terminal: true, replicates: false, site: "recovery" },
};

export const failoverFlags = (state: ItemFailoverState): FailoverFlags => FAILOVER_STATES[state ?? "none"];

/** The state columns of an item's row. */
export interface ItemStateColumns {
  state: StoredProtectionState;
  failover_state: ItemFailoverState;
  resync_reason: ResyncReason | null;
}

/** What the machine reads of an item. */
export type ItemFacts = ItemStateColumns & { name: string };

/** What an allowed operation changes (columns left out stay as they are). */
export type Change = Partial<ItemStateColumns>;

/** Extra facts some refusals name: the property refused (item updates, agent reports). */
export interface OperationContext {
  field?: string;
}

type Rule = (item: ItemFacts, context: OperationContext) => Change | EngineError;

const SAME: Change = {};
const refuse = (message: string, field = "name") => new ConflictError(message, field);
/** A transition no caller should ask for: a defect, not a user's mistake. */
const impossible = (item: ItemFacts, operation: string, state: string) =>
  new EngineError("InternalError", `'${item.name}' cannot ${operation} in state ${state}`);
const migrated = (item: ItemFacts, field?: string) => refuse(`'${item.name}' was migrated and is no longer protected`, field);
const from = (item: ItemFacts, operation: string, allowed: Partial<Record<StoredProtectionState, Change>>): Change | EngineError =>
  allowed[item.state] ?? impossible(item, operation, item.state);
/** A state of running work stopped without a point: back to waiting for it. */
const onlyFrom = (item: ItemFacts, allowed: Partial<Record<StoredProtectionState, Change>>): Change => allowed[item.state] ?? SAME;

/** An item's fields refused by its failover state (item updates): none once migrated, some while failed over. */
const updateRule =
  (allowedIn: ItemFailoverState[] | "all", message: (item: ItemFacts, field: string) => string = () => ""): Rule =>
  (item, { field = "name" }) => {
    if (item.failover_state === "Migrated") return migrated(item, field);
    return allowedIn === "all" || allowedIn.includes(item.failover_state) ? SAME : refuse(message(item, field), field);
  };

/** An agent's window lands only in the states its work was handed out in. */
const agentWindow =
  (mode: string, states: StoredProtectionState[]): Rule =>
  (item, { field }) =>
    states.includes(item.state) ? SAME : refuse(`'${item.name}' is ${item.state}; an agent's ${mode} window does not apply`, field);

const OPERATIONS = {
  // Operations someone asks for (refusals are Conflict, with the text users and tests rely on).
  failover: (item) => {
    if (item.failover_state === "Migrated") return migrated(item);
    if (item.failover_state) return refuse(`'${item.name}' is already failed over (${item.failover_state}); commit, reprotect or fail back instead`);
    if (item.state !== "Protected" && item.state !== "ResyncRequired") return refuse(`'${item.name}' is not protected yet (${item.state})`);
    return { failover_state: "FailedOver" };
  },
  changePoint: (item) =>
    item.failover_state === "FailedOver"
      ? SAME
      : refuse(
          `'${item.name}' ${item.failover_state === "Committed" ? "is committed: its recovery points are gone" : "is not failed over"}; a recovery point can only be changed after a failover and before commit`,
        ),
  commit: (item) => {
    if (item.failover_state === "FailedOver") return { failover_state: "Committed" };
    if (item.failover_state === "FailedBack") return { failover_state: "FailbackCommitted" };
    if (item.failover_state === "Committed" || item.failover_state === "FailbackCommitted")
      return refuse(`the ${item.failover_state === "Committed" ? "failover" : "failback"} of '${item.name}' is already committed`);
    return refuse(`'${item.name}' has no failover to commit`);
  },
  migrate: (item) =>
    item.failover_state === "FailedOver" || item.failover_state === "Committed"
      ? { failover_state: "Migrated" }
      : refuse(`'${item.name}' must be failed over before its migration can complete`),
  /** Reprotect starts: the new source's initial replication (a delta); reprotectDone finishes it. */
  reprotect: (item) => {
    if (item.failover_state === "Migrated") return migrated(item);
    if (item.failover_state === "FailedOver" || item.failover_state === "FailedBack")
      return refuse(`commit the ${item.failover_state === "FailedOver" ? "failover" : "failback"} of '${item.name}' before reprotecting it`);
    if (item.failover_state !== "Committed" && item.failover_state !== "FailbackCommitted")
      return refuse(`'${item.name}' has no committed failover or failback to reprotect after`);
    return { state: "InitialReplicationInProgress", resync_reason: null };
  },
  failback: (item) => {
    if (item.failover_state === "Migrated") return refuse(`'${item.name}' was migrated; failback is refused`);
    if (item.failover_state !== "Reprotected")
      return refuse(
        `'${item.name}' is not replicating back to the primary (${item.failover_state ?? "not failed over"}); fail it over, commit and reprotect first`,
      );
    return { failover_state: "FailedBack" };
  },
  /** Allowed: the row is deleted. */
  unprotect: (item) => {
    if (item.failover_state === "FailedBack")
      return refuse(`the failback of '${item.name}' is not committed; commit it first ('lifeboat commit ${item.name}')`);
    if (item.failover_state === "FailedOver")
      return refuse(`'${item.name}' is failed over and runs at the recovery site; commit the failover and fail it back first (or complete a migration)`);
    if (failoverFlags(item.failover_state).site === "recovery" && item.failover_state !== "Migrated")
      return refuse(`'${item.name}' is active at the recovery site; fail it back and commit the failback first`);
    return SAME;
  },
  /** Allowed: the work it runs (replicateNowWork) changes the state when it records a point. */
  replicateNow: (item) => {
    if (!failoverFlags(item.failover_state).replicates)
      return refuse(
        `'${item.name}' is ${item.failover_state === "Migrated" ? "migrated" : `failed over (${item.failover_state})`}; it replicates again after reprotect`,
      );
    if (item.state === "ResyncRequired") return refuse(`'${item.name}' needs a resync (${item.resync_reason}); run 'lifeboat resync ${item.name}'`);
    return SAME;
  },
  /** A resync the engine runs (on demand or in the resync window): refused in no state. */
  resync: () => ({ state: "Resynchronizing", resync_reason: null }),
  /** A resync on demand of a machine its agent reads: due at once. */
  requestResync: (item) => (item.state === "Resynchronizing" ? SAME : { state: "ResyncRequired", resync_reason: "Requested" }),
  /** A drill leaves the item as it is, in any state (it needs a recovery point: point-options refuses without one). */
  drill: () => SAME,
  /** Any change of an item's settings (policy and hooks may always change, but not once migrated). */
  update: updateRule("all"),
  /** A move to another host or disk paths: at the primary, or while replicating back. */
  move: updateRule([null, "Reprotected"], (item) => `'${item.name}' is failed over (${item.failover_state}); move it after failback`),
  /** Where and how the machine runs: fixed from failover until the failback is committed. */
  place: updateRule(
    [null, "FailbackCommitted"],
    (item, field) => `'${item.name}' is failed over (${item.failover_state}); its ${field} can change once it is failed back and the failback committed`,
  ),
  acceptInitialWindow: agentWindow("initial", ["InitialReplicationPending", "InitialReplicationInProgress"]),
  acceptDeltaWindow: agentWindow("delta", ["Protected"]),
  acceptResyncWindow: agentWindow("resync", ["ResyncRequired", "Resynchronizing"]),

  // Work progressing (a refusal here is a defect: InternalError).
  /** The policy's initial replication start lies ahead. */
  deferInitial: (item) => from(item, "defer its initial replication", { EnablingProtection: { state: "InitialReplicationPending" } }),
  /** The initial replication starts (the engine's, or handed to an agent; again after one abandoned mid-way). */
  startInitial: (item) => {
    const started: Change = { state: "InitialReplicationInProgress", resync_reason: null };
    return from(item, "start its initial replication", {
      EnablingProtection: started,
      InitialReplicationPending: started,
      InitialReplicationInProgress: started,
    });
  },
  /** An agent takes the resync (again after one abandoned mid-way); the reason stays, for when it fails. */
  startAgentResync: (item) => from(item, "start a resync", { ResyncRequired: { state: "Resynchronizing" }, Resynchronizing: SAME }),
  /** Initial replication stopped without a point (failed, interrupted, its agent failed or moved): pending again. */
  initialStopped: (item) =>
    onlyFrom(item, { EnablingProtection: { state: "InitialReplicationPending" }, InitialReplicationInProgress: { state: "InitialReplicationPending" } }),
  /** A resync stopped without a point: required again. */
  resyncStopped: (item) => onlyFrom(item, { Resynchronizing: { state: "ResyncRequired", resync_reason: item.resync_reason ?? "ResyncFailed" } }),
  /** A window recorded a point (from any state: initial replication, cycle, resync, final syncs). */
  recordPoint: () => ({ state: "Protected", resync_reason: null }),
  /** A window recorded a point that relies on damaged copies. */
  recordDamagedPoint: () => ({ state: "ResyncRequired", resync_reason: "ReplicaDamaged" }),
  /** A failed attempt found the chain of points broken. */
  chainBroken: () => ({ state: "ResyncRequired", resync_reason: "ChainBroken" }),
  /** A failed attempt left half a disk or more of change data pending. */
  pendingChangeData: () => ({ state: "ResyncRequired", resync_reason: "PendingChangeData" }),
  /** Any other failed attempt: a resync under way needs to run again. */
  attemptFailed: (item) => onlyFrom(item, { Resynchronizing: { state: "ResyncRequired", resync_reason: "ResyncFailed" } }),
  /** Verify found the latest point damaged. */
  replicaDamaged: (item) => onlyFrom(item, { Protected: { state: "ResyncRequired", resync_reason: "ReplicaDamaged" } }),
  /** The latest point reads intact again: a resync needed for that alone is not. */
  replicaIntact: (item) => (item.state === "ResyncRequired" && item.resync_reason === "ReplicaDamaged" ? { state: "Protected", resync_reason: null } : SAME),
  /** Reprotect's new replication direction is in place. */
  reprotectDone: (item) => {
    if (item.failover_state === "Committed") return { failover_state: "Reprotected" };
    if (item.failover_state === "FailbackCommitted") return { failover_state: null };
    return impossible(item, "finish a reprotect", item.failover_state ?? "none");
  },
  /** A reprotect failed or was interrupted: protected as before, so reprotect can run again. */
  reprotectFailed: () => ({ state: "Protected", resync_reason: null }),
} satisfies Record<string, Rule>;

export type ItemOperation = keyof typeof OPERATIONS;
export const ITEM_OPERATIONS = Object.keys(OPERATIONS) as ItemOperation[];

/** What `operation` does to the item: its columns after it, or the refusal (thrown). */
export function transition(item: ItemFacts, operation: ItemOperation, context: OperationContext = {}): ItemStateColumns {
  const outcome = (OPERATIONS[operation] as Rule)(item, context);
  if (outcome instanceof EngineError) throw outcome;
  return { state: item.state, failover_state: item.failover_state, resync_reason: item.resync_reason, ...outcome };
}

/** Refuse (throw) unless the item's state allows `operation`; changes nothing. */
export function assertAllowed(item: ItemFacts, operation: ItemOperation, context: OperationContext = {}): void {
  transition(item, operation, context);
}

export function allows(item: ItemFacts, operation: ItemOperation): boolean {
  return !((OPERATIONS[operation] as Rule)(item, {}) instanceof EngineError);
}

/** The state a protected item starts in: an agent's machine waits for its agent; the engine starts at once. */
export const protectedState = (readByAgent: boolean): StoredProtectionState => (readByAgent ? "InitialReplicationPending" : "EnablingProtection");

/** The protection state the API reports: a migrated item is Migrated there too (it is no longer protected). */
export const reportedState = (item: Pick<ItemFacts, "state" | "failover_state">): ProtectionState =>
  item.failover_state === "Migrated" ? "Migrated" : item.state;

/** What "replicate now" runs in an allowed state: the initial replication until there is a first point. */
export const replicateNowWork = (item: Pick<ItemFacts, "state">): "initial" | "cycle" =>
  item.state === "EnablingProtection" || item.state === "InitialReplicationPending" ? "initial" : "cycle";
