// dueWork decides, from stored rows and the clock alone, what the scheduler and agents' heartbeats run
// next: these are its rules one at a time, each against a row that differs from a due one in one field.
import { strict as assert } from "node:assert";
import { dueWork, type ScheduledItem } from "../../engine/replication/due";
import { HOUR } from "../../engine/clock";

const NOW = new Date(2026, 5, 1, 12, 0).getTime(); // noon local time: outside the 18:00–08:00 window
const NIGHT = new Date(2026, 5, 1, 23, 0).getTime();

let nextId = 1;
/** A protected item on a 30 s policy whose last attempt was long ago: due for a crash-consistent cycle. */
function item(fields: Partial<ScheduledItem> = {}): ScheduledItem {
  const id = nextId++;
  return {
    id,
    name: `m${id}`,
    site_id: 1,
    host: "hv01",
    policy_id: 1,
    generation: 2,
    os_type: "linux",
    group_name: null,
    hooks: "{}",
    qmp: null,
    state: "Protected",
    resync_reason: null,
    failures: 0,
    next_attempt_at: null,
    error_code: null,
    error_message: null,
    error_recoverable: 0,
    error_since: null,
    last_attempt_at: NOW - HOUR,
    last_app_point_at: null,
    created_at: 0,
    recovery: null,
    nics: "[]",
    active_site: "primary",
    failover_state: null,
    failover_point: null,
    last_drill_at: null,
    lease_until: null,
    copy_frequency: "30s",
    app_consistent_hours: 0,
    initial_replication_start: null,
    resync_start: "18:00",
    resync_end: "08:00",
    ...fields,
  };
}

const names = (rows: ScheduledItem[]) => rows.map((r) => r.name);
const cycleNames = (work: ReturnType<typeof dueWork>) => work.cycles.map((c) => names(c.items));

describe("dueWork (what replication runs now)", () => {
  it("runs a protected item's cycle once its copy frequency has passed since the last attempt, not a millisecond sooner", () => {
    const at = (lastAttempt: number, frequency: string) =>
      cycleNames(dueWork([item({ name: "m", last_attempt_at: lastAttempt, copy_frequency: frequency })], NOW));
    assert.deepEqual(at(NOW - 30_000, "30s"), [["m"]]);
    assert.deepEqual(at(NOW - 29_999, "30s"), []);
    assert.deepEqual(at(NOW - 299_999, "5m"), []);
    assert.deepEqual(at(NOW - 300_000, "5m"), [["m"]]);
    assert.deepEqual(at(NOW - 900_000, "15m"), [["m"]]);
    assert.deepEqual(cycleNames(dueWork([item({ name: "m", last_attempt_at: null })], NOW)), [["m"]], "never attempted: due");
  });

  it("puts the due machines of one replication group in one window, and every other machine in its own", () => {
    const rows = [
      item({ name: "db", group_name: "shop" }),
      item({ name: "web" }),
      item({ name: "app", group_name: "shop" }),
      item({ name: "idle", group_name: "shop", last_attempt_at: NOW }),
    ];
    assert.deepEqual(cycleNames(dueWork(rows, NOW)), [["db", "app"], ["web"]]);
  });

  it("makes a window app-consistent when any of its machines' app-consistent frequency has passed", () => {
    const fresh = { app_consistent_hours: 4, last_app_point_at: NOW - 4 * HOUR + 1 };
    const stale = { app_consistent_hours: 4, last_app_point_at: NOW - 4 * HOUR };
    const kinds = (rows: ScheduledItem[]) => dueWork(rows, NOW).cycles.map((c) => c.appConsistent);
    assert.deepEqual(kinds([item(fresh)]), [false]);
    assert.deepEqual(kinds([item(stale)]), [true]);
    assert.deepEqual(kinds([item({ app_consistent_hours: 0, last_app_point_at: null })]), [false], "app-consistent points off");
    assert.deepEqual(kinds([item({ ...fresh, group_name: "g" }), item({ ...stale, group_name: "g" })]), [true], "the group's window as a whole");
  });

  it("starts an initial replication once its start time has come", () => {
    const initial = (start: number | null) =>
      names(dueWork([item({ name: "m", state: "InitialReplicationPending", initial_replication_start: start })], NOW).initial);
    assert.deepEqual(initial(null), ["m"]);
    assert.deepEqual(initial(NOW), ["m"]);
    assert.deepEqual(initial(NOW + 1), []);
  });

  it("resyncs inside the policy's resync window, or at once when asked for", () => {
    const resync = (now: number, reason: ScheduledItem["resync_reason"]) =>
      names(dueWork([item({ name: "m", state: "ResyncRequired", resync_reason: reason })], now).resync);
    assert.deepEqual(resync(NOW, "Requested"), ["m"]);
    assert.deepEqual(resync(NOW, "ReplicaDamaged"), [], "outside the window");
    assert.deepEqual(resync(NIGHT, "ReplicaDamaged"), ["m"]);
  });

  it("skips machines waiting out a back-off, stopped by a non-recoverable error, failed over, or leased to an agent", () => {
    const due = (fields: Partial<ScheduledItem>) => dueWork([item({ name: "m", ...fields })], NOW).cycles.length === 1;
    assert.equal(due({ error_code: "IoError", error_recoverable: 1, next_attempt_at: NOW + 1 }), false);
    assert.equal(due({ error_code: "IoError", error_recoverable: 1, next_attempt_at: NOW }), true, "the back-off is over");
    assert.equal(due({ error_code: "ChainBroken", error_recoverable: 0 }), false);
    assert.equal(due({ failover_state: "FailedOver" }), false);
    assert.equal(due({ failover_state: "Committed" }), false);
    assert.equal(due({ failover_state: "Reprotected" }), true, "replicating back");
    assert.equal(due({ lease_until: NOW + 1 }), false);
    assert.equal(due({ state: "InitialReplicationInProgress" }), false);
  });

  it("hands out again, with `leased`, work whose agent's lease ran out, and only then", () => {
    const rows = [
      item({ name: "copying", state: "InitialReplicationInProgress", lease_until: NOW - 1 }),
      item({ name: "resyncing", state: "Resynchronizing", lease_until: NOW - 1 }),
      item({ name: "held", state: "Resynchronizing", lease_until: NOW + 1 }),
    ];
    const leased = dueWork(rows, NOW, { leased: true });
    assert.deepEqual([names(leased.initial), names(leased.resync), leased.cycles], [["copying"], ["resyncing"], []]);
    const unleased = dueWork(rows, NOW);
    assert.deepEqual([unleased.initial, unleased.resync, unleased.cycles], [[], [], []]);
  });
});
