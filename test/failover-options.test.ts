import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { EngineError } from "../engine";
import { ValidationError } from "../schema";
import { resolvePoints } from "../engine/failover/point-options";
import { replicateWindow } from "../engine/replication/cycle";
import { itemRow } from "../engine/inventory/items";
import { makeDisk, randomWrites, recoveryVault, tempDir } from "./helpers";
import { waitFor } from "./wait";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

async function protect(engine: Engine, dir: string, name: string, extra: Record<string, unknown> = {}) {
  const disk = path.join(dir, `${name}.img`);
  await makeDisk(disk, 4);
  const job = await engine.protect({
    name,
    site: "hq",
    policy: "gold",
    disks: [{ name: "os", path: disk, os: true }],
    recovery: { site: "dr", network: "dr-net" },
    ...extra,
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return disk;
}

describe("failover: recovery point options", () => {
  it("each option picks the right point, including the multi-VM options of a two-machine group", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    const quiesce = { quiesce: "true", unquiesce: "true" };
    for (const name of ["a", "b"]) await protect(engine, dir, name, { group: "g", hooks: quiesce });
    await protect(engine, dir, "c", { hooks: quiesce });
    const sync = async (name: string, appConsistent = false) => {
      clock.advance(30_000);
      await randomWrites(path.join(dir, `${name}.img`), 2);
      const job = await engine.replicateNow(name, { appConsistent });
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      return (job.result as { points: Array<{ id: string; item: string; windowId: string | null }> }).points;
    };
    const w1 = await sync("a"); // crash, group window
    const w2 = await sync("a", true); // app-consistent, group window
    const w3 = await sync("a"); // crash, group window
    const c1 = await sync("c", true);
    const c2 = await sync("c");
    // a alone (b not in the window): a later point of a that is not multi-VM consistent.
    clock.advance(30_000);
    const [aSolo] = await replicateWindow(engine.vault, [await itemRow(engine.vault, "a")], { appConsistent: false });
    assert.equal(aSolo.windowId, null);

    const items = await Promise.all(["a", "b", "c"].map((n) => itemRow(engine.vault, n)));
    const pick = async (option: string) => {
      const chosen = await resolvePoints(engine.vault, items, option);
      return items.map((i) => chosen.get(i.id)!.id);
    };
    const id = (points: Array<{ id: string; item: string }>, item: string) => points.find((p) => p.item === item)!.id;
    assert.deepEqual(await pick("latest-processed"), [aSolo.id, id(w3, "b"), c2[0].id]);
    assert.deepEqual(await pick("latest-app-consistent"), [id(w2, "a"), id(w2, "b"), c1[0].id]);
    assert.deepEqual(await pick("latest-multivm-processed"), [id(w3, "a"), id(w3, "b"), c2[0].id]);
    assert.deepEqual(await pick("latest-multivm-app-consistent"), [id(w2, "a"), id(w2, "b"), c1[0].id]);
    assert.deepEqual((await resolvePoints(engine.vault, [items[0]], id(w1, "a"))).get(items[0].id)!.id, id(w1, "a"));
    await assert.rejects(resolvePoints(engine.vault, [items[0]], id(w1, "b")), /'a' has no recovery point/);

    // A real failover of b to its latest multi-VM app-consistent point.
    const job = await engine.failover("b", { type: "unplanned", point: "latest-multivm-app-consistent" });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.equal((job.result as { point: { id: string; kind: string } }).point.id, id(w2, "b"));
  });
});

describe("failover: bad requests get clear errors and change nothing", () => {
  let engine: Engine;
  let dir: string;
  before(async () => {
    dir = tempDir();
    ({ engine } = await recoveryVault(dir));
    await protect(engine, dir, "web", { recovery: { site: "dr", network: "dr-net", ip: "10.1.0.10" } });
    await protect(engine, dir, "api", { recovery: { site: "dr", network: "dr-net", ip: "10.1.0.10" } });
    await protect(engine, dir, "plain", { recovery: undefined });
  });

  const rejects = async (attempt: Promise<unknown>, code: string, pattern: RegExp) => {
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof EngineError || error instanceof ValidationError, `expected an error, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
  };

  it("failover of an item without recovery settings, or that is not protected", async () => {
    await rejects(engine.failover("plain", { type: "unplanned" }), "NoRecoveryTarget", /no recovery settings/);
    await rejects(engine.failover("ghost", { type: "unplanned" }), "NotFound", /'ghost' does not exist/);
    await engine.addPolicy({ name: "later", initialReplicationStart: new Date(engine.vault.clock.now() + 3_600_000).toISOString() });
    await makeDisk(path.join(dir, "new.img"), 2);
    await engine.protect({
      name: "new",
      site: "hq",
      policy: "later",
      disks: [{ name: "os", path: path.join(dir, "new.img"), os: true }],
      recovery: { site: "dr" },
    });
    await rejects(engine.failover("new", { type: "unplanned" }), "Conflict", /not protected yet \(InitialReplicationPending\)/);
  });

  it("a planned failover without a way to shut the source down, and bad options", async () => {
    await rejects(engine.failover("web", { type: "planned" }), "InvalidInput", /shutdown command/);
    await rejects(engine.failover("web", { type: "sideways" }), "InvalidInput", /type/);
    await rejects(engine.failover("web", { type: "unplanned", point: "yesterday" }), "InvalidInput", /recovery point option/);
    assert.equal((await engine.jobs({ target: "web" })).filter((j) => j.type === "Failover").length, 0, "no job was started");
  });

  it("a static IP that is already taken fails the failover, leaving the item where it was", async () => {
    const first = await engine.failover("web", { type: "unplanned", point: "latest-processed" });
    assert.equal(first.state, "Succeeded", JSON.stringify(first.error));
    const second = await engine.failover("api", { type: "unplanned", point: "latest-processed" });
    assert.equal(second.state, "Failed");
    assert.equal(second.error?.code, "IpAddressInUse");
    assert.match(second.error!.message, /10\.1\.0\.10 is already in use in network 'dr-net'/);
    const api = await engine.item("api");
    assert.deepEqual([api.activeSite, api.failoverState, api.recoveryMachine], ["primary", null, null]);
    assert.equal(existsSync(path.join(dir, "dr", "api")), false);
    await rejects(engine.failover("web", { type: "unplanned" }), "Conflict", /already failed over/);
  });

  it("commit without a failover, commit twice, change point after commit", async () => {
    await rejects(engine.commit("api"), "Conflict", /no failover to commit/);
    assert.equal((await engine.commit("web")).state, "Succeeded");
    await rejects(engine.commit("web"), "Conflict", /already committed/);
    await rejects(engine.changeRecoveryPoint("web", "latest-processed"), "Conflict", /committed/);
  });

  it("cancel before the start task leaves the item at the primary, ready to fail over again", async () => {
    // The shutdown hook waits for a file the test writes once the cancel is asked for, so the cancel
    // lands while the job runs however slow the machine is.
    await makeDisk(path.join(dir, "slow.img"), 2);
    const go = path.join(dir, "shutdown-may-finish");
    await engine.protect({
      name: "slow",
      site: "hq",
      policy: "gold",
      disks: [{ name: "os", path: path.join(dir, "slow.img"), os: true }],
      hooks: { shutdown: `while [ ! -e '${go}' ]; do sleep 0.05; done` },
      recovery: { site: "dr" },
    });
    const running = engine.failover("slow", { type: "unplanned", point: "latest-processed", shutdownSource: true });
    const jobId = await waitFor(
      "the failover job to start",
      async () => (await engine.jobs({ target: "slow" })).find((j) => j.type === "Failover" && j.state === "InProgress")?.id,
      undefined,
      20,
    );
    await engine.cancel(jobId);
    await fs.writeFile(go, "");
    const job = await running;
    assert.equal(job.state, "Cancelled");
    assert.deepEqual(
      job.tasks.map((t) => t.state),
      ["Succeeded", "Succeeded", "NotStarted", "NotStarted"],
    );
    assert.match((job.result as { state: string }).state, /source was shut down/);
    const slow = await engine.item("slow");
    assert.deepEqual([slow.activeSite, slow.failoverState], ["primary", null]);
    await rejects(engine.cancel(jobId), "Conflict", /only a running job/);
    const again = await engine.failover("slow", { type: "unplanned", point: "latest-processed" });
    assert.equal(again.state, "Succeeded", "resumable: the failover can run again");
    assert.ok(existsSync(path.join(dir, "dr", "slow", "os")));
    await fs.rm(path.join(dir, "dr"), { recursive: true, force: true });
  });
});

describe("drills over time", () => {
  it("recommends a drill after 180 days without a successful one, counting a drill only once it is cleaned up", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    await protect(engine, dir, "vm");
    const DAY = 24 * 3_600_000;
    clock.advance(179 * DAY);
    assert.equal((await engine.item("vm")).drillRecommended, false);
    clock.advance(DAY);
    assert.equal((await engine.item("vm")).drillRecommended, true);
    assert.equal((await engine.drill("vm", "latest-processed")).state, "Succeeded");
    assert.equal((await engine.item("vm")).drillRecommended, true, "not counted before its cleanup");
    assert.equal((await engine.drillCleanup("vm", "ok")).state, "Succeeded");
    assert.equal((await engine.item("vm")).drillRecommended, false);
    clock.advance(180 * DAY);
    assert.equal((await engine.item("vm")).drillRecommended, true);
  });
});
