import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import { DAY, Engine as LocalEngine, MINUTE, systemClock, type JobView } from "../engine";
import type { VerifyResult } from "../engine/replication/verify";
import type { FailoverImpact } from "../schema";
import { buildServer } from "../engine/server/app";
import { Agent } from "../agent/agent";
import { lifeboat, spawnLifeboat, vaultCli } from "./cli";
import { makeDisk, newVault, overwriteBlocks, recoveryVault, tempDir, vaultWithVm } from "./helpers";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];
type Clock = Awaited<ReturnType<typeof recoveryVault>>["clock"];

const BLOCK = 65536;

/** The id (SHA-256) of block `index` of a disk file as it is now. */
async function blockIdOf(file: string, index: number): Promise<string> {
  const handle = await fs.open(file, "r");
  try {
    const data = Buffer.alloc(BLOCK);
    await handle.read(data, 0, BLOCK, index * BLOCK);
    return createHash("sha256").update(data).digest("hex");
  } finally {
    await handle.close();
  }
}

interface Location {
  id: string;
  pack: string;
  offset: number;
  length: number;
}

/** Where the store keeps blocks, as its index (in the catalog) says. */
function locations(vaultDir: string, where: { id?: string; pack?: string }): Location[] {
  const catalog = new Database(path.join(vaultDir, "catalog.sqlite"), { readonly: true });
  try {
    const [column, value] = where.id ? ["id", where.id] : ["pack", where.pack];
    return catalog.prepare(`select id, pack, offset, length from blocks where ${column} = ? order by offset`).all(value) as Location[];
  } finally {
    catalog.close();
  }
}

const packFile = (vaultDir: string, pack: string) => path.join(vaultDir, "store", pack);

/** Flip one byte in the middle of a block's stored frame. */
async function flipByte(vaultDir: string, id: string): Promise<void> {
  const [at] = locations(vaultDir, { id });
  const handle = await fs.open(packFile(vaultDir, at.pack), "r+");
  try {
    const byte = Buffer.alloc(1);
    const offset = at.offset + Math.floor(at.length / 2);
    await handle.read(byte, 0, 1, offset);
    byte[0] ^= 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Machine "vm" on site hq with a recovery site, its OS disk `blocks` 64 KiB blocks (every 4th zero). */
async function protectVm(engine: Engine, dir: string, blocks: number, extra: Record<string, unknown> = {}): Promise<string> {
  const disk = path.join(dir, "vm.img");
  await makeDisk(disk, blocks);
  const job = await engine.protect({
    name: "vm",
    site: "hq",
    policy: "gold",
    disks: [{ name: "os", path: disk, os: true }],
    recovery: { site: "dr", network: "dr-net" },
    ...extra,
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return disk;
}

async function sync(engine: Engine, clock: Clock): Promise<string> {
  clock.advance(30_000);
  const job = await engine.replicateNow("vm");
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return (job.result as { points: Array<{ id: string }> }).points[0].id;
}

/** Each damaged point with its damaged blocks, as a verify's result lists them. */
const damagedOf = (result: VerifyResult) => result.damaged.map((d) => ({ point: d.point, blocks: d.disks.map((x) => `${x.disk}:${x.blocks}`).join(",") }));

/** A job started elsewhere (the scheduler's), once it has ended. */
async function ended(engine: Engine, id: string): Promise<JobView> {
  for (;;) {
    const job = await engine.job(id);
    if (job.state !== "InProgress" && job.state !== "NotStarted") return job;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("verify (scrub)", () => {
  describe("a vault whose packs get damaged", () => {
    let dir: string;
    let engine: Engine;
    let disk: string;
    let p1: string, p2: string, p3: string;
    /** In every point and in the source. */
    let shared: string;
    /** Only in p1: the source has overwritten it since. */
    let gone: string;
    let truncated: string, deleted: string;
    const cli = vaultCli(() => engine.vault.dir);

    before(async () => {
      dir = tempDir();
      let clock: Clock;
      ({ engine, clock } = await recoveryVault(dir));
      disk = await protectVm(engine, dir, 48);
      p1 = (await engine.points("vm"))[0].id;
      shared = await blockIdOf(disk, 13);
      gone = await blockIdOf(disk, 1);
      await overwriteBlocks(disk, 1, 4); // blocks 1-3 anew: one pack of three
      p2 = await sync(engine, clock);
      truncated = locations(engine.vault.dir, { id: await blockIdOf(disk, 2) })[0].pack;
      await overwriteBlocks(disk, 5, 8);
      p3 = await sync(engine, clock);
      deleted = locations(engine.vault.dir, { id: await blockIdOf(disk, 5) })[0].pack;
      assert.notEqual(truncated, deleted);
    });

    it("a clean vault verifies clean: exit 0, every distinct block read back once", async () => {
      const run = await cli.run("verify", "--json");
      assert.equal(run.code, 0, run.stderr);
      const job = run.json() as JobView;
      assert.equal(job.type, "Verify");
      assert.equal(job.state, "Succeeded");
      const result = job.result as VerifyResult;
      assert.equal(result.pointsChecked, 3);
      assert.equal(result.blocksChecked, 36 + 3 + 3, "36 non-zero blocks, then 3 new ones per point: shared blocks are read once");
      assert.equal(result.damagedBlocks, 0);
      assert.deepEqual(result.damaged, []);
      const human = await cli.run("verify", "vm");
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /verified 3 point\(s\): 42 block\(s\)/);
    });

    it("finds a flipped byte, a truncated pack and a deleted pack: exit 1, the damaged points listed, status Critical ReplicaDamaged", async () => {
      await flipByte(engine.vault.dir, shared);
      await flipByte(engine.vault.dir, gone);
      const [, second] = locations(engine.vault.dir, { pack: truncated }); // blocks 2 and 3 of p2 are cut off
      await fs.truncate(packFile(engine.vault.dir, truncated), second.offset + Math.floor(second.length / 2));
      await fs.rm(packFile(engine.vault.dir, deleted)); // blocks 5-7 of p3

      const run = await cli.run("verify", "--json");
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /damage found: 7 damaged block\(s\) this run; 3 recovery point\(s\) cannot be restored/);
      const result = (run.json() as JobView).result as VerifyResult;
      assert.equal(result.damagedBlocks, 7);
      assert.deepEqual(damagedOf(result), [
        { point: p3, blocks: "os:6" },
        { point: p2, blocks: "os:3" },
        { point: p1, blocks: "os:2" },
      ]);
      const reasons = result.findings.map((f) => f.reason).join("\n");
      assert.match(reasons, /does not match its id|fails authentication/, "the flipped bytes (caught by the cipher in an encrypted vault)");
      assert.match(reasons, /short read/, `the truncated pack: ${reasons}`);
      assert.match(reasons, /ENOENT/, "the deleted pack");

      const status = await engine.item("vm");
      assert.equal(status.health, "Critical");
      const error = status.healthErrors.find((e) => e.code === "ReplicaDamaged");
      assert.ok(error, JSON.stringify(status.healthErrors));
      for (const point of [p1, p2, p3]) assert.ok(error.message.includes(point), error.message);
      assert.equal(status.state, "ResyncRequired");
      assert.equal(status.resyncRequired, "ReplicaDamaged");
      const points = await engine.points("vm");
      assert.deepEqual(
        points.map((p) => [p.id, p.damaged, p.damagedDisks]),
        [
          [p1, true, [{ disk: "os", blocks: 2 }]],
          [p2, true, [{ disk: "os", blocks: 3 }]],
          [p3, true, [{ disk: "os", blocks: 6 }]],
        ],
      );
      assert.match((await cli.ok("points", "vm")).stdout, /os: 6 block\(s\)/);

      const latest = await cli.run("verify", "vm", "--points", "latest", "--json");
      assert.equal(latest.code, 1);
      const only = (latest.json() as JobView).result as VerifyResult;
      assert.equal(only.pointsChecked, 1);
      assert.equal(only.blocksChecked, 36);
      assert.deepEqual(damagedOf(only), [{ point: p3, blocks: "os:6" }]);

      const bad = await cli.run("verify", "--points", "some");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /points:/);
      const rate = await cli.run("verify", "--rate-limit", "0");
      assert.equal(rate.code, 2);
      assert.match(rate.stderr, /rateLimitMiBps: must be a positive number/);
      const serve = await cli.run("serve", "--port", "0", "--verify-interval", "weekly");
      assert.equal(serve.code, 2);
      assert.match(serve.stderr, /verifyInterval: /);
      const ghost = await cli.run("verify", "ghost");
      assert.equal(ghost.code, 1);
      assert.match(ghost.stderr, /protected item 'ghost' does not exist/);
    });

    it("resync repairs the latest point from the source; a point whose damaged block is in no source any more stays damaged and is refused", async () => {
      const resync = await engine.resync("vm");
      assert.equal(resync.state, "Succeeded", JSON.stringify(resync.error));
      assert.equal((resync.result as { damageCleared: number }).damageCleared, 6, "every damaged block but the one no source has");
      const latest = await engine.verify({ item: "vm", points: "latest" });
      assert.deepEqual((latest.result as VerifyResult).damaged, []);
      const out = path.join(dir, "latest");
      assert.equal((await engine.materialize("vm", "latest", out)).state, "Succeeded");
      assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(disk)), "byte-exact");

      const all = await engine.verify({});
      assert.deepEqual(
        damagedOf(all.result as VerifyResult),
        [{ point: p1, blocks: "os:1" }],
        "p2 and p3 were repaired with the blocks they share with the source",
      );
      const points = await engine.points("vm");
      assert.deepEqual(
        points.filter((p) => p.damaged).map((p) => p.id),
        [p1],
      );
      const status = await engine.item("vm");
      assert.equal(status.state, "Protected");
      assert.equal(status.health, "Warning", "the latest point is intact again");
      assert.match(status.healthErrors.find((e) => e.code === "ReplicaDamaged")!.message, new RegExp(`${p1}.*in no source any more`));

      const materialize = await engine.materialize("vm", p1, path.join(dir, "old"));
      assert.equal(materialize.state, "Failed");
      assert.equal(materialize.error?.code, "PointDamaged");
      assert.match(
        materialize.error!.message,
        new RegExp(`recovery point ${p1} of 'vm' is damaged \\(disk os: 1 damaged block\\(s\\), found by verify\\) and cannot be restored`),
      );
      await assert.rejects(fs.access(path.join(dir, "old", "os")));

      const preview = (await engine.failoverPreview("vm", { type: "unplanned", point: p1 })) as FailoverImpact;
      assert.match(preview.groups[0].items[0].refusal ?? "", /is damaged .* cannot be restored/);
      const failover = await engine.failover("vm", { type: "unplanned", point: p1 });
      assert.equal(failover.state, "Failed");
      assert.equal(failover.error?.code, "PointDamaged");
      assert.equal((await engine.item("vm")).activeSite, "primary");
      const drill = await engine.drill("vm", p1);
      assert.equal(drill.state, "Failed");
      assert.equal(drill.error?.code, "PointDamaged");
      const processed = (await engine.failoverPreview("vm", { type: "unplanned", point: "latest-processed" })) as FailoverImpact;
      assert.equal(processed.groups[0].items[0].point?.id, points[points.length - 1].id);
    });
  });

  it("the latest-* options pass over a damaged latest point: the preview, a drill and a failover agree", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    const disk = await protectVm(engine, dir, 16, { hooks: { shutdown: "true" } });
    const p1 = (await engine.points("vm"))[0].id;
    const atP1 = path.join(dir, "at-p1.img");
    await fs.copyFile(disk, atP1);
    await overwriteBlocks(disk, 5, 6);
    const p2 = await sync(engine, clock);
    await flipByte(engine.vault.dir, await blockIdOf(disk, 5)); // only p2 (and the source) has it
    const verify = await engine.verify({});
    assert.deepEqual(damagedOf(verify.result as VerifyResult), [{ point: p2, blocks: "os:1" }]);

    const preview = async (point: string, type = "unplanned") => ((await engine.failoverPreview("vm", { type, point })) as FailoverImpact).groups[0].items[0];
    assert.equal((await preview("latest-processed")).point?.id, p1);
    const latest = await preview("latest");
    assert.equal(latest.point?.id, p1);
    assert.match(latest.pointOption, /latest point is damaged/);
    assert.match((await preview("latest", "planned")).refusal ?? "", /latest recovery point of 'vm' is damaged/);

    const drill = await engine.drill("vm", "latest");
    assert.equal(drill.state, "Succeeded", JSON.stringify(drill.error));
    assert.equal((drill.result as { point: { id: string } }).point.id, p1);
    assert.equal((await engine.drillCleanup("vm")).state, "Succeeded");
    const failover = await engine.failover("vm", { type: "unplanned", point: "latest" });
    assert.equal(failover.state, "Succeeded", JSON.stringify(failover.error));
    const outcome = failover.result as { point: { id: string }; machine: { dir: string }; notes: string[] };
    assert.equal(outcome.point.id, p1);
    assert.match(outcome.notes.join("\n"), /latest point is damaged/);
    assert.ok((await fs.readFile(path.join(outcome.machine.dir, "os"))).equals(await fs.readFile(atP1)), "the machine came up byte-exact at p1");
  });

  describe("the daemon over HTTP", () => {
    let daemon: ChildProcess | undefined;
    after(async () => {
      if (!daemon || daemon.exitCode !== null) return;
      daemon.kill("SIGTERM");
      await new Promise((r) => daemon!.once("close", r));
    });

    it("POST /v1/verify is a job that finds the damage; status says ReplicaDamaged; the CLI through the daemon exits 1", async () => {
      const dir = tempDir();
      // Real time, as the daemon runs; 15-minute cycles, so none runs during the test.
      const { engine } = await newVault(dir, { clock: systemClock, policy: { copyFrequency: "15m" } });
      await makeDisk(path.join(dir, "vm.img"), 8);
      assert.equal(
        (await engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "vm.img"), os: true }] })).state,
        "Succeeded",
      );
      const [point] = await engine.points("vm");
      await flipByte(engine.vault.dir, await blockIdOf(path.join(dir, "vm.img"), 3));
      const vault = engine.vault.dir;
      await engine.close();

      // An hour between ticks: the scheduler runs once, at start, and stays out of the way.
      daemon = spawnLifeboat(["--vault", vault, "serve", "--port", "0", "--tick-ms", "3600000"]);
      let log = "";
      daemon.stdout!.on("data", (c) => (log += c));
      daemon.stderr!.on("data", (c) => (log += c));
      const started = /API at (\S+); an admin token was written to (\S+)/;
      while (!started.test(log)) {
        assert.equal(daemon.exitCode, null, `the daemon exited: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const [, endpoint, tokenFile] = started.exec(log)!;
      const token = (await fs.readFile(tokenFile, "utf8")).trim();
      const call = async (method: string, url: string, body?: unknown) => {
        const res = await fetch(`${endpoint}${url}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as any };
      };

      const bad = await call("POST", "/v1/verify", { points: "some" });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, "points");
      assert.equal((await call("POST", "/v1/verify", { item: "ghost" })).status, 404);

      const accepted = await call("POST", "/v1/verify", {});
      assert.equal(accepted.status, 202);
      assert.equal(accepted.body.type, "Verify");
      let job = accepted.body as JobView;
      while (job.state === "InProgress") {
        await new Promise((r) => setTimeout(r, 50));
        job = (await call("GET", `/v1/jobs/${job.id}`)).body;
      }
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      assert.deepEqual(damagedOf(job.result as VerifyResult), [{ point: point.id, blocks: "os:1" }]);
      const item = (await call("GET", "/v1/items/vm")).body as { health: string; healthErrors: Array<{ code: string; message: string }> };
      assert.equal(item.health, "Critical");
      assert.match(item.healthErrors.find((e) => e.code === "ReplicaDamaged")?.message ?? "", new RegExp(point.id));

      const remote = await lifeboat(["--vault", vault, "--endpoint", endpoint, "verify", "--json"]);
      assert.equal(remote.code, 1, remote.stderr);
      assert.deepEqual(damagedOf(JSON.parse(remote.stdout).result), [{ point: point.id, blocks: "os:1" }]);
    });
  });

  it("a machine an agent reads: verify finds the damage, the agent's resync repairs it and the damage is cleared", async () => {
    const dir = tempDir();
    const { engine, registrationKey } = await newVault(dir);
    const app = buildServer(engine);
    const endpoint = await app.listen({ host: "127.0.0.1", port: 0 });
    after(() => app.close());
    const agent = await Agent.start({ engine: endpoint, host: "host2", site: "hq", registrationKey, workDir: path.join(dir, "agent") });
    const disk = path.join(dir, "vm.img");
    await makeDisk(disk, 16);
    const protect = await engine.protect({ name: "vm", site: "hq", host: "host2", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
    await agent.once();
    assert.equal((await engine.job(protect.id)).state, "Succeeded");
    const [point] = await engine.points("vm");
    await flipByte(engine.vault.dir, await blockIdOf(disk, 6));
    assert.deepEqual(damagedOf((await engine.verify({})).result as VerifyResult), [{ point: point.id, blocks: "os:1" }]);
    assert.equal((await engine.item("vm")).resyncRequired, "ReplicaDamaged");

    const resync = await engine.resync("vm"); // waits for the agent, and ends when its window lands
    await agent.once();
    const done = await engine.job(resync.id);
    assert.equal(done.state, "Succeeded", JSON.stringify(done.error));
    assert.deepEqual((done.result as { repairedBlocks: string[] }).repairedBlocks, [await blockIdOf(disk, 6)]);
    const again = await engine.verify({});
    assert.deepEqual((again.result as VerifyResult).damaged, [], "the repaired copy is the one the index names now, for every point");
    const status = await engine.item("vm");
    assert.equal(status.state, "Protected");
    assert.equal(status.health, "Normal");
    const out = path.join(dir, "out");
    assert.equal((await engine.materialize("vm", point.id, out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(disk)));
  });

  it("a pack deleted while this process keeps it open is damage all the same", async () => {
    const dir = tempDir();
    const { engine, disk } = await vaultWithVm(dir, 8);
    assert.deepEqual(((await engine.verify({})).result as VerifyResult).damaged, []); // reads the pack: its handle is kept
    await fs.rm(packFile(engine.vault.dir, locations(engine.vault.dir, { id: await blockIdOf(disk, 1) })[0].pack));
    const result = (await engine.verify({})).result as VerifyResult;
    assert.equal(result.damagedBlocks, 6, "every block of the only pack");
    assert.match(result.findings[0].reason, /ENOENT/);
  });

  it("a cancelled verify stops where it is, keeping what it found", async () => {
    const dir = tempDir();
    const { engine, disk } = await vaultWithVm(dir, 48);
    await flipByte(engine.vault.dir, await blockIdOf(disk, 1));
    // 2.3 MiB at 0.1 MiB/s would take 20 s and more: the cancel comes long before.
    const running = engine.verify({ rateLimitMiBps: 0.1 });
    let job: JobView | undefined;
    while (!job) {
      job = (await engine.jobs({ target: "vault" })).find((j) => j.type === "Verify" && j.state === "InProgress");
      await new Promise((r) => setTimeout(r, 20));
    }
    await engine.cancel(job.id);
    const done = await running;
    assert.equal(done.state, "Cancelled");
    const result = done.result as VerifyResult;
    assert.equal(result.stopped, "cancelled");
    assert.ok(result.blocksChecked < 36, `${result.blocksChecked} blocks read`);
    assert.equal(result.damaged.length, 1, "block 1, read first, is damaged: recorded though the run stopped");
    assert.equal((await engine.points("vm"))[0].damaged, true);
  });

  it("a vault that took a later migration first (008 before 007) still gets the damage tables when opened", async () => {
    const dir = tempDir();
    const { engine } = await newVault(dir);
    const vault = engine.vault.dir;
    await engine.close();
    const catalog = new Database(path.join(vault, "catalog.sqlite"));
    catalog.exec("drop table point_damage; drop table damaged_blocks; delete from kysely_migration where name = '007-damage'");
    catalog.close();
    const reopened = await LocalEngine.open(vault);
    try {
      assert.deepEqual(((await reopened.verify({})).result as VerifyResult).damaged, []);
      assert.ok(await reopened.vault.db.selectFrom("damaged_blocks").select("id").execute());
    } finally {
      await reopened.close();
    }
  });

  it("the scheduler verifies the whole vault weekly in the background, and once the store takes writes again after a StoreFull", async () => {
    const dir = tempDir();
    const { engine, clock, faulty, disk } = await vaultWithVm(dir, 8);
    assert.equal((await engine.tick()).verify, null, "the first tick starts the week");
    clock.advance(6 * DAY);
    assert.equal((await engine.tick()).verify, null);
    clock.advance(DAY);
    const weekly = (await engine.tick()).verify;
    assert.equal(weekly?.reason, "scheduled");
    const job = await ended(engine, weekly!.job);
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.equal((job.result as VerifyResult).pointsChecked, (await engine.points("vm")).length);
    clock.advance(MINUTE);
    assert.equal((await engine.tick()).verify, null, "not again until next week");

    faulty.failWith = "ENOSPC";
    await overwriteBlocks(disk, 1, 2);
    clock.advance(30_000);
    const full = await engine.tick();
    assert.equal(full.failed[0]?.code, "StoreFull");
    assert.equal(full.verify, null, "not while the store is full");
    faulty.failWith = null;
    clock.advance(MINUTE);
    const recovered = await engine.tick();
    assert.deepEqual(recovered.replicated, ["vm"]);
    assert.equal(recovered.verify?.reason, "the store was full");
    assert.equal((await ended(engine, recovered.verify!.job)).state, "Succeeded");
    clock.advance(MINUTE);
    assert.equal((await engine.tick()).verify, null, "once");
  });
});
