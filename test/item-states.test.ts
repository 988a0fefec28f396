import { strict as assert } from "node:assert";
import * as path from "node:path";
import { sql } from "kysely";
import { Engine as EngineClass } from "../engine";
import { EngineError } from "../engine/errors";
import {
  ITEM_OPERATIONS,
  PROTECTION_STATES,
  transition,
  type ItemFacts,
  type ItemFailoverState,
  type ItemOperation,
  type StoredProtectionState,
} from "../engine/inventory/item-state";
import { FailoverState, type ResyncReason } from "../schema";
import { makeDisk, recoveryVault, tempDir } from "./helpers";

const PROTECTION = Object.keys(PROTECTION_STATES) as StoredProtectionState[];
const FAILOVER: ItemFailoverState[] = [null, ...FailoverState.options];

/** The item the walk puts in each state: a resync is required for a broken chain; no other state has a reason. */
const itemIn = (state: StoredProtectionState, failover: ItemFailoverState): ItemFacts => ({
  name: "vm",
  state,
  failover_state: failover,
  resync_reason: state === "ResyncRequired" ? "ChainBroken" : null,
});

/** Context the field-naming refusals take (update refusals name the field, agent reports the item's place in the report). */
const CONTEXT: Partial<Record<ItemOperation, { field: string }>> = {
  update: { field: "policy" },
  move: { field: "host" },
  place: { field: "nics" },
  acceptInitialWindow: { field: "items.0.item" },
  acceptDeltaWindow: { field: "items.0.item" },
  acceptResyncWindow: { field: "items.0.item" },
};

/** An outcome as text: "=" (nothing changes), the columns that change, or "Code field: message" for a refusal. */
function outcome(item: ItemFacts, operation: ItemOperation): string {
  try {
    const next = transition(item, operation, CONTEXT[operation]);
    const changes = [
      next.state !== item.state ? `state=${next.state}` : "",
      next.resync_reason !== item.resync_reason ? `reason=${next.resync_reason}` : "",
      next.failover_state !== item.failover_state ? `failover=${next.failover_state}` : "",
    ].filter(Boolean);
    return changes.length ? changes.join(" ") : "=";
  } catch (error) {
    assert.ok(error instanceof EngineError, `${operation} threw ${String(error)}`);
    return `${error.code}${error.field ? ` ${error.field}` : ""}: ${error.message}`;
  }
}

type ByProtection = Record<StoredProtectionState, string>;
type ByFailover = Record<NonNullable<ItemFailoverState> | "none", string>;
/** What an operation does: by failover state (PROTECTION: decided by the protection state), and by protection state. */
type Expected = { failover?: ByFailover; protection?: ByProtection };

const all = (text: string) => (state: string) => text.replace("$S", state);
const byProtection = (of: (s: StoredProtectionState) => string, except: Partial<ByProtection> = {}): ByProtection =>
  Object.fromEntries(PROTECTION.map((s) => [s, except[s] ?? of(s)])) as ByProtection;
const byFailover = (of: (s: string) => string, except: Partial<ByFailover>): ByFailover =>
  Object.fromEntries(FAILOVER.map((s) => [s ?? "none", except[s ?? "none"] ?? of(s ?? "none")])) as ByFailover;
const P = "PROTECTION";
const MIGRATED = "Conflict name: 'vm' was migrated and is no longer protected";
const internal = (operation: string) => all(`InternalError: 'vm' cannot ${operation} in state $S`);
const agentWindow = (mode: string, accepted: StoredProtectionState[]) =>
  byProtection(all(`Conflict items.0.item: 'vm' is $S; an agent's ${mode} window does not apply`), Object.fromEntries(accepted.map((s) => [s, "="])));

/** The whole transition table, written out: every (state, operation) pair's next state or refusal. */
const EXPECTED: Record<ItemOperation, Expected> = {
  failover: {
    failover: byFailover(all("Conflict name: 'vm' is already failed over ($S); commit, reprotect or fail back instead"), { none: P, Migrated: MIGRATED }),
    protection: byProtection(all("Conflict name: 'vm' is not protected yet ($S)"), { Protected: "failover=FailedOver", ResyncRequired: "failover=FailedOver" }),
  },
  changePoint: {
    failover: byFailover(all("Conflict name: 'vm' is not failed over; a recovery point can only be changed after a failover and before commit"), {
      FailedOver: "=",
      Committed: "Conflict name: 'vm' is committed: its recovery points are gone; a recovery point can only be changed after a failover and before commit",
    }),
  },
  commit: {
    failover: byFailover(all("Conflict name: 'vm' has no failover to commit"), {
      FailedOver: "failover=Committed",
      FailedBack: "failover=FailbackCommitted",
      Committed: "Conflict name: the failover of 'vm' is already committed",
      FailbackCommitted: "Conflict name: the failback of 'vm' is already committed",
    }),
  },
  migrate: {
    failover: byFailover(all("Conflict name: 'vm' must be failed over before its migration can complete"), {
      FailedOver: "failover=Migrated",
      Committed: "failover=Migrated",
    }),
  },
  reprotect: {
    failover: byFailover(all("Conflict name: 'vm' has no committed failover or failback to reprotect after"), {
      Migrated: MIGRATED,
      FailedOver: "Conflict name: commit the failover of 'vm' before reprotecting it",
      FailedBack: "Conflict name: commit the failback of 'vm' before reprotecting it",
      Committed: P,
      FailbackCommitted: P,
    }),
    protection: byProtection(all("state=InitialReplicationInProgress"), {
      InitialReplicationInProgress: "=",
      ResyncRequired: "state=InitialReplicationInProgress reason=null",
    }),
  },
  failback: {
    failover: byFailover(all("Conflict name: 'vm' is not replicating back to the primary ($S); fail it over, commit and reprotect first"), {
      none: "Conflict name: 'vm' is not replicating back to the primary (not failed over); fail it over, commit and reprotect first",
      Migrated: "Conflict name: 'vm' was migrated; failback is refused",
      Reprotected: "failover=FailedBack",
    }),
  },
  unprotect: {
    failover: byFailover(all("Conflict name: 'vm' is active at the recovery site; fail it back and commit the failback first"), {
      none: "=",
      FailbackCommitted: "=",
      Migrated: "=",
      FailedBack: "Conflict name: the failback of 'vm' is not committed; commit it first ('lifeboat commit vm')",
      FailedOver: "Conflict name: 'vm' is failed over and runs at the recovery site; commit the failover and fail it back first (or complete a migration)",
    }),
  },
  replicateNow: {
    failover: byFailover(all("Conflict name: 'vm' is failed over ($S); it replicates again after reprotect"), {
      none: P,
      Reprotected: P,
      Migrated: "Conflict name: 'vm' is migrated; it replicates again after reprotect",
    }),
    protection: byProtection(all("="), { ResyncRequired: "Conflict name: 'vm' needs a resync (ChainBroken); run 'lifeboat resync vm'" }),
  },
  resync: { protection: byProtection(all("state=Resynchronizing"), { Resynchronizing: "=", ResyncRequired: "state=Resynchronizing reason=null" }) },
  requestResync: { protection: byProtection(all("state=ResyncRequired reason=Requested"), { Resynchronizing: "=", ResyncRequired: "reason=Requested" }) },
  drill: { protection: byProtection(all("=")) },
  update: { failover: byFailover(all("="), { Migrated: "Conflict policy: 'vm' was migrated and is no longer protected" }) },
  move: {
    failover: byFailover(all("Conflict host: 'vm' is failed over ($S); move it after failback"), {
      none: "=",
      Reprotected: "=",
      Migrated: "Conflict host: 'vm' was migrated and is no longer protected",
    }),
  },
  place: {
    failover: byFailover(all("Conflict nics: 'vm' is failed over ($S); its nics can change once it is failed back and the failback committed"), {
      none: "=",
      FailbackCommitted: "=",
      Migrated: "Conflict nics: 'vm' was migrated and is no longer protected",
    }),
  },
  acceptInitialWindow: { protection: agentWindow("initial", ["InitialReplicationPending", "InitialReplicationInProgress"]) },
  acceptDeltaWindow: { protection: agentWindow("delta", ["Protected"]) },
  acceptResyncWindow: { protection: agentWindow("resync", ["ResyncRequired", "Resynchronizing"]) },
  deferInitial: { protection: byProtection(internal("defer its initial replication"), { EnablingProtection: "state=InitialReplicationPending" }) },
  startInitial: {
    protection: byProtection(internal("start its initial replication"), {
      EnablingProtection: "state=InitialReplicationInProgress",
      InitialReplicationPending: "state=InitialReplicationInProgress",
      InitialReplicationInProgress: "=",
    }),
  },
  startAgentResync: { protection: byProtection(internal("start a resync"), { ResyncRequired: "state=Resynchronizing", Resynchronizing: "=" }) },
  initialStopped: {
    protection: byProtection(all("="), {
      EnablingProtection: "state=InitialReplicationPending",
      InitialReplicationInProgress: "state=InitialReplicationPending",
    }),
  },
  resyncStopped: { protection: byProtection(all("="), { Resynchronizing: "state=ResyncRequired reason=ResyncFailed" }) },
  recordPoint: { protection: byProtection(all("state=Protected"), { Protected: "=", ResyncRequired: "state=Protected reason=null" }) },
  recordDamagedPoint: { protection: byProtection(all("state=ResyncRequired reason=ReplicaDamaged"), { ResyncRequired: "reason=ReplicaDamaged" }) },
  chainBroken: { protection: byProtection(all("state=ResyncRequired reason=ChainBroken"), { ResyncRequired: "=" }) },
  pendingChangeData: { protection: byProtection(all("state=ResyncRequired reason=PendingChangeData"), { ResyncRequired: "reason=PendingChangeData" }) },
  attemptFailed: { protection: byProtection(all("="), { Resynchronizing: "state=ResyncRequired reason=ResyncFailed" }) },
  replicaDamaged: { protection: byProtection(all("="), { Protected: "state=ResyncRequired reason=ReplicaDamaged" }) },
  replicaIntact: { protection: byProtection(all("=")) },
  reprotectDone: {
    failover: byFailover(all("InternalError: 'vm' cannot finish a reprotect in state $S"), {
      Committed: "failover=Reprotected",
      FailbackCommitted: "failover=null",
    }),
  },
  reprotectFailed: { protection: byProtection(all("state=Protected"), { Protected: "=", ResyncRequired: "state=Protected reason=null" }) },
};

describe("item states", () => {
  it("every (state, operation) pair is allowed with its documented next state or refused with its code and message", () => {
    assert.deepEqual([...ITEM_OPERATIONS].sort(), Object.keys(EXPECTED).sort(), "every operation of the machine is in the table");
    let pairs = 0;
    for (const operation of ITEM_OPERATIONS) {
      const { failover, protection } = EXPECTED[operation];
      for (const f of FAILOVER) {
        for (const p of PROTECTION) {
          const byF = failover?.[f ?? "none"] ?? P;
          const expected = byF === P ? protection![p] : byF;
          assert.equal(outcome(itemIn(p, f), operation), expected, `${operation} in ${p} / ${f ?? "no failover"}`);
          pairs++;
        }
      }
    }
    assert.equal(pairs, ITEM_OPERATIONS.length * 6 * 7);
  });

  it("transitions that read the resync reason: damage cleared only when it was the reason, a stopped resync keeps its reason", () => {
    const required = (reason: ResyncReason | null): ItemFacts => ({ name: "vm", state: "ResyncRequired", failover_state: null, resync_reason: reason });
    assert.equal(outcome(required("ReplicaDamaged"), "replicaIntact"), "state=Protected reason=null");
    assert.equal(outcome(required("Requested"), "replicaIntact"), "=");
    assert.equal(outcome({ ...required("Requested"), state: "Resynchronizing" }, "resyncStopped"), "state=ResyncRequired");
    assert.equal(outcome({ ...required("Requested"), state: "Resynchronizing" }, "attemptFailed"), "state=ResyncRequired reason=ResyncFailed");
    assert.equal(outcome(required("Requested"), "replicateNow"), "Conflict name: 'vm' needs a resync (Requested); run 'lifeboat resync vm'");
  });

  describe("against the engine", () => {
    type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];
    const row = (engine: Engine) => engine.vault.db.selectFrom("items").selectAll().where("name", "=", "vm").executeTakeFirstOrThrow();
    async function protectedVm(dir: string) {
      const vault = await recoveryVault(dir);
      const disk = path.join(dir, "vm.img");
      await makeDisk(disk, 16);
      assert.equal(
        (await vault.engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }], recovery: { site: "dr" } })).state,
        "Succeeded",
      );
      return vault;
    }

    it("a refused operation leaves the item as it was in the catalog; an allowed one moves the active site with the failover state", async () => {
      const { engine } = await protectedVm(tempDir());
      const before = await row(engine);
      await assert.rejects(engine.commit("vm"), { code: "Conflict", message: "'vm' has no failover to commit" });
      await assert.rejects(engine.reprotect("vm"), { code: "Conflict", message: "'vm' has no committed failover or failback to reprotect after" });
      await assert.rejects(engine.failback("vm", { location: "original" }), {
        code: "Conflict",
        message: "'vm' is not replicating back to the primary (not failed over); fail it over, commit and reprotect first",
      });
      assert.deepEqual(await row(engine), before);

      assert.equal((await engine.failover("vm", { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
      const failedOver = await row(engine);
      assert.deepEqual([failedOver.state, failedOver.failover_state, failedOver.active_site], ["Protected", "FailedOver", "recovery"]);
      await assert.rejects(engine.unprotect("vm"), {
        code: "Conflict",
        message: "'vm' is failed over and runs at the recovery site; commit the failover and fail it back first (or complete a migration)",
      });
      await assert.rejects(engine.replicateNow("vm"), { code: "Conflict", message: "'vm' is failed over (FailedOver); it replicates again after reprotect" });
      await assert.rejects(engine.updateItem("vm", { nics: [] }), { code: "Conflict", field: "nics" });
      assert.deepEqual(await row(engine), failedOver);
    });

    it("a migration is kept in the failover state alone and reported in both; every later change is refused and changes nothing", async () => {
      const { engine } = await protectedVm(tempDir());
      assert.equal((await engine.failover("vm", { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
      assert.equal((await engine.completeMigration("vm")).state, "Succeeded");
      const migrated = await row(engine);
      assert.deepEqual([migrated.state, migrated.failover_state], ["Protected", "Migrated"]);
      const status = await engine.item("vm");
      assert.deepEqual([status.state, status.failoverState, status.resyncRequired], ["Migrated", "Migrated", null]);
      await assert.rejects(engine.failover("vm", { type: "unplanned", point: "latest-processed" }), {
        code: "Conflict",
        message: "'vm' was migrated and is no longer protected",
      });
      await assert.rejects(engine.reprotect("vm"), { code: "Conflict", message: "'vm' was migrated and is no longer protected" });
      await assert.rejects(engine.failback("vm", { location: "original" }), { code: "Conflict", message: "'vm' was migrated; failback is refused" });
      await assert.rejects(engine.replicateNow("vm"), { code: "Conflict", message: "'vm' is migrated; it replicates again after reprotect" });
      await assert.rejects(engine.updateItem("vm", { hooks: {} }), {
        code: "Conflict",
        field: "hooks",
        message: "'vm' was migrated and is no longer protected",
      });
      assert.deepEqual(await row(engine), migrated);
    });

    it("an item migrated by an older version (Migrated in both columns) opens with it in the failover state alone", async () => {
      const dir = tempDir();
      const { engine, clock } = await protectedVm(dir);
      assert.equal((await engine.failover("vm", { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
      assert.equal((await engine.completeMigration("vm")).state, "Succeeded");
      // What the older version wrote, and a catalog from before migration 009.
      await sql`update items set state = 'Migrated' where name = 'vm'`.execute(engine.vault.db);
      await sql`delete from kysely_migration where name = '009-migrated-once'`.execute(engine.vault.db);
      await engine.close();
      const reopened = await EngineClass.open(path.join(dir, "vault"), { clock });
      after(() => reopened.close());
      const upgraded = await row(reopened);
      assert.deepEqual([upgraded.state, upgraded.failover_state], ["Protected", "Migrated"]);
      assert.equal((await reopened.item("vm")).state, "Migrated");
    });
  });
});
