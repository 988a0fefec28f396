import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HOUR, MINUTE } from "../engine";
import { makeDisk, newVault, overwriteBlocks, tempDir } from "./helpers";
import { FaultyStore } from "./fixtures/faulty-store";

describe("scheduler", () => {
  it("replicates on each policy's copy frequency, and a policy change applies to machines already using it", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    await engine.addPolicy({ name: "slow", copyFrequency: "15m" });
    for (const [name, policy] of [
      ["fast", "gold"],
      ["slow", "slow"],
    ]) {
      await makeDisk(path.join(dir, `${name}.img`), 2);
      await engine.protect({ name, site: "hq", policy, disks: [{ name: "os", path: path.join(dir, `${name}.img`), os: true }] });
    }
    /** Cycles per machine over half an hour, the clock moving 10 s a tick. */
    const halfHour = async () => {
      const runs = new Map<string, number>();
      for (let s = 0; s < 30 * 60; s += 10) {
        clock.advance(10_000);
        for (const name of (await engine.tick()).replicated) runs.set(name, (runs.get(name) ?? 0) + 1);
      }
      return Object.fromEntries(runs);
    };
    assert.deepEqual(await halfHour(), { fast: 60, slow: 2 });
    await engine.updatePolicy("gold", { copyFrequency: "5m" });
    assert.deepEqual(await halfHour(), { fast: 6, slow: 2 });
    assert.equal((await engine.getPolicy("gold-failback")).copyFrequency, "5m", "the failback policy follows");
  });

  it("holds initial replication until the policy's start time, as a suspended job", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const start = new Date(clock.now() + 2 * HOUR).toISOString();
    await engine.addPolicy({ name: "tonight", initialReplicationStart: start });
    await makeDisk(path.join(dir, "os.img"), 3);
    const job = await engine.protect({ name: "vm", site: "hq", policy: "tonight", disks: [{ name: "os", path: path.join(dir, "os.img"), os: true }] });
    assert.equal(job.state, "Suspended");
    assert.deepEqual(
      job.tasks.map((t) => t.state),
      ["Succeeded", "Succeeded", "NotStarted", "NotStarted"],
    );
    assert.equal((await engine.item("vm")).state, "InitialReplicationPending");
    clock.advance(HOUR);
    assert.deepEqual((await engine.tick()).initialReplications, []);
    clock.advance(HOUR);
    assert.deepEqual((await engine.tick()).initialReplications, ["vm"]);
    const done = await engine.job(job.id);
    assert.equal(done.state, "Succeeded");
    assert.deepEqual(
      done.tasks.map((t) => t.state),
      ["Succeeded", "Succeeded", "Succeeded", "Succeeded"],
    );
    assert.equal((await engine.item("vm")).state, "Protected");
    assert.equal((await engine.points("vm")).length, 1);
  });

  it("makes app-consistent points on the policy's interval with the quiesce hooks, crash-consistent ones in between", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir, { policy: { appConsistentHours: 1, copyFrequency: "5m" } });
    const log = path.join(dir, "hooks.log");
    await makeDisk(path.join(dir, "os.img"), 2);
    await engine.protect({
      name: "vm",
      site: "hq",
      policy: "gold",
      disks: [{ name: "os", path: path.join(dir, "os.img"), os: true }],
      hooks: { quiesce: `echo quiesce >> ${log}`, unquiesce: `echo unquiesce >> ${log}` },
    });
    for (let m = 0; m < 150; m += 5) {
      clock.advance(5 * MINUTE);
      await engine.tick();
    }
    const points = await engine.points("vm");
    const app = points.filter((p) => p.kind === "app");
    assert.equal(app.length, 3, "one app-consistent point per hour over 2.5 hours");
    assert.equal(points.length - app.length, 28);
    assert.equal((await fs.readFile(log, "utf8")).trim().split("\n").join(","), "quiesce,unquiesce,quiesce,unquiesce,quiesce,unquiesce");
    const explicit = await engine.replicateNow("vm", { appConsistent: true });
    assert.equal((explicit.result as { points: Array<{ kind: string }> }).points[0].kind, "app");
  });

  it("runs a required resync only inside the policy's resync window", async () => {
    const dir = tempDir();
    let faulty!: FaultyStore;
    const { engine, clock } = await newVault(dir, {
      wrapStore: (s) => (faulty = new FaultyStore(s)),
      policy: { resyncWindow: { start: "22:00", end: "06:00" } },
    });
    const day = new Date(clock.now());
    clock.set(new Date(day.getFullYear(), day.getMonth(), day.getDate(), 12, 0).getTime()); // local noon
    await makeDisk(path.join(dir, "os.img"), 4);
    await engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "os.img"), os: true }] });
    faulty.failWith = "ENOSPC";
    await overwriteBlocks(path.join(dir, "os.img"), 0, 4);
    clock.advance(30_000);
    await engine.tick();
    assert.equal((await engine.item("vm")).state, "ResyncRequired");
    faulty.failWith = null;
    let resynced = false;
    while (!resynced) {
      clock.advance(30 * MINUTE);
      resynced = (await engine.tick()).resyncs.includes("vm");
    }
    const at = new Date(clock.now());
    assert.ok(at.getHours() >= 22 || at.getHours() < 6, `resync ran at ${at.getHours()}:${at.getMinutes()} local`);
    assert.equal((await engine.item("vm")).state, "Protected");
  });
});
