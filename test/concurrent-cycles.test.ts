import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, promises as fs, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, HOUR } from "../engine";
import { makeDisk, newVault, overwriteBlocks, recoveryVault, tempDir } from "./helpers";
import { waitFor } from "./wait";

/**
 * A machine's window held open by its own hooks, a real slow participant: with `hold-<item>` present,
 * the next pause (or resume, after the reads) hook of that item consumes it, logs, and waits for
 * `release-<item>`. Every pause and resume is logged, in order, in hooks.log.
 */
function gatedHooks(dir: string, at: "pause" | "resume" = "pause") {
  const log = path.join(dir, "hooks.log");
  const gate = `if [ -e ${dir}/hold-$LIFEBOAT_ITEM ]; then rm ${dir}/hold-$LIFEBOAT_ITEM; echo held $LIFEBOAT_ITEM >> ${log}; while [ ! -e ${dir}/release-$LIFEBOAT_ITEM ]; do sleep 0.05; done; rm ${dir}/release-$LIFEBOAT_ITEM; fi`;
  const pause = `echo pause $LIFEBOAT_ITEM >> ${log}${at === "pause" ? `; ${gate}` : ""}`;
  const resume = `${at === "resume" ? `${gate}; ` : ""}echo resume $LIFEBOAT_ITEM >> ${log}`;
  return { pause, resume };
}

const logLines = async (dir: string) => (await fs.readFile(path.join(dir, "hooks.log"), "utf8").catch(() => "")).split("\n").filter(Boolean);
const hold = (dir: string, item: string) => fs.writeFile(path.join(dir, `hold-${item}`), "");
const release = (dir: string, item: string) => fs.writeFile(path.join(dir, `release-${item}`), "");
const heldNow = async (dir: string, item: string) => (await logLines(dir)).includes(`held ${item}`);

/** Most windows open at once, from the order of pause and resume lines. */
function mostOpenAtOnce(lines: string[]): number {
  let open = 0;
  let most = 0;
  for (const line of lines) {
    if (line.startsWith("pause ")) most = Math.max(most, ++open);
    if (line.startsWith("resume ")) open--;
  }
  return most;
}

async function protectGated(engine: Engine, dir: string, name: string, options: { at?: "pause" | "resume"; blocks?: number } = {}) {
  const disk = path.join(dir, `${name}.img`);
  if (!existsSync(disk)) await makeDisk(disk, options.blocks ?? 4);
  const job = await engine.protect({ name, site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }], hooks: gatedHooks(dir, options.at) });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return disk;
}

/**
 * A disk whose reads can be made to block: a file exported over FUSE by qemu-storage-daemon. `hang()` stops
 * the daemon (SIGSTOP), so every read of the export blocks in the kernel, as a dead NFS server or a failing
 * SAN would; `answer()` continues it. The mount's directory is removed only after the export ends (a tempDir
 * would go first, busy).
 */
async function hangableDisk(dir: string, name: string): Promise<{ image: string; exported: string; hang(): void; answer(): void }> {
  const mounts = mkdtempSync(path.join(os.tmpdir(), "lifeboat-fuse-"));
  let qsd: ChildProcess | undefined;
  after(async () => {
    qsd?.kill("SIGCONT");
    qsd?.kill("SIGTERM");
    if (qsd && qsd.exitCode === null) await new Promise((resolve) => qsd!.once("exit", resolve));
    rmSync(mounts, { recursive: true, force: true });
  });
  const image = path.join(dir, `${name}-source.img`);
  await makeDisk(image, 8);
  const exported = path.join(mounts, `${name}.img`);
  await fs.writeFile(exported, "");
  qsd = spawn(
    "qemu-storage-daemon",
    ["--blockdev", `driver=file,node-name=f,filename=${image}`, "--export", `type=fuse,id=e,node-name=f,mountpoint=${exported},writable=off`],
    { stdio: "ignore" },
  );
  await waitFor("the FUSE export", async () => (await fs.stat(exported)).size === 8 * 65536);
  return { image, exported, hang: () => void qsd!.kill("SIGSTOP"), answer: () => void qsd!.kill("SIGCONT") };
}

describe("concurrent cycles", () => {
  it("records another machine's cycle, and takes the vault lock for others, while one machine's window is still being read", async () => {
    const dir = tempDir();
    const { engine, clock, registrationKey } = await newVault(dir);
    await protectGated(engine, dir, "slow");
    await protectGated(engine, dir, "fast");
    await hold(dir, "slow");
    clock.advance(30_000);
    const ticking = engine.tick();
    await waitFor("the slow machine's window to be held open", () => heldNow(dir, "slow"));
    await waitFor("the fast machine's point", async () => (await engine.points("fast")).length === 2);
    // Operations that take the vault lock (an agent registering and its heartbeat) are not held back either.
    const agent = await engine.registerAgent({ host: "agent-host", site: "hq", registrationKey });
    assert.ok(agent.token);
    await engine.agentHeartbeat("agent-host", {});
    assert.equal((await engine.points("slow")).length, 1, "the slow window is still open");
    await release(dir, "slow");
    const report = await ticking;
    assert.deepEqual(report.replicated.sort(), ["fast", "slow"]);
    assert.equal((await engine.points("slow")).length, 2);
  });

  it("records nothing for a window whose machine failed over meanwhile, and counts it as skipped, not failed", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    const disk = path.join(dir, "db.img");
    await makeDisk(disk, 4);
    const job = await engine.protect({
      name: "db",
      site: "hq",
      policy: "gold",
      disks: [{ name: "os", path: disk, os: true }],
      nics: [{ network: "corp" }],
      hooks: gatedHooks(dir),
      recovery: { site: "dr", targetSize: "Standard_D2s_v3", compute: { driver: "none" } },
    });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    await hold(dir, "db");
    clock.advance(30_000);
    const ticking = engine.tick();
    await waitFor("the window to be held open", () => heldNow(dir, "db"));
    const failover = await engine.failover("db", { type: "unplanned", point: "latest" });
    assert.equal(failover.state, "Succeeded", JSON.stringify(failover.error));
    const pointsAfterFailover = (await engine.points("db")).length;
    await release(dir, "db");
    const report = await ticking;
    assert.deepEqual(report.replicated, []);
    assert.deepEqual(report.failed, []);
    assert.equal(report.skipped.length, 1);
    assert.match(report.skipped[0].reason, /'db' went from Protected to Protected\/FailedOver while its window was read/);
    const item = await engine.item("db");
    assert.equal((await engine.points("db")).length, pointsAfterFailover, "no point from the discarded window");
    assert.equal(item.failoverState, "FailedOver");
    assert.deepEqual(item.healthErrors, [], "no failure recorded");
  });

  it("records nothing for a window whose disk moved on meanwhile (another process's cycle); the next cycle works", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const disk = await protectGated(engine, dir, "vm");
    const other = await Engine.open(engine.dir, { clock });
    after(() => other.close());
    await hold(dir, "vm");
    await overwriteBlocks(disk, 1, 2);
    clock.advance(30_000);
    const ticking = engine.tick();
    await waitFor("the window to be held open", () => heldNow(dir, "vm"));
    const now = await other.replicateNow("vm");
    assert.equal(now.state, "Succeeded", JSON.stringify(now.error));
    await release(dir, "vm");
    const report = await ticking;
    assert.deepEqual(report.replicated, []);
    assert.match(report.skipped[0].reason, /disk 'os' of 'vm' moved on while its window was read \(version 2, now 3\)/);
    assert.equal((await engine.points("vm")).length, 2, "the initial point and the other process's");
    await overwriteBlocks(disk, 2, 3);
    clock.advance(30_000);
    assert.deepEqual((await engine.tick()).replicated, ["vm"]);
    const points = await engine.points("vm");
    assert.equal(points.length, 3);
    const out = path.join(dir, "restored");
    assert.equal((await engine.materialize("vm", points[points.length - 1].id, out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(disk)), "the later point restores the disk as it is");
  });

  it("does not record a window relying on a block garbage collection removed while it was read; the next cycle ships it again", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir, { policy: { retentionHours: 1 } });
    const disk = await protectGated(engine, dir, "vm", { at: "resume" });
    const handle = await fs.open(disk, "r");
    const first = Buffer.alloc(65536);
    await handle.read(first, 0, first.length, 65536);
    await handle.close();
    await overwriteBlocks(disk, 1, 2);
    clock.advance(30_000);
    assert.deepEqual((await engine.tick()).replicated, ["vm"]);
    // Block 1's first content now lives only in the initial point, which expires: put back on the disk,
    // the next window finds it stored; retention runs while that window is held after its reads.
    const writer = await fs.open(disk, "r+");
    await writer.write(first, 0, first.length, 65536);
    await writer.close();
    await hold(dir, "vm");
    clock.advance(2 * HOUR);
    const ticking = engine.tick();
    await waitFor("the window to be held after its reads", () => heldNow(dir, "vm"));
    const retention = await engine.applyRetention();
    assert.equal(retention.state, "Succeeded", JSON.stringify(retention.error));
    await release(dir, "vm");
    const report = await ticking;
    assert.deepEqual(report.replicated, []);
    assert.match(report.skipped[0]?.reason ?? "", /block\(s\) the window read left the store meanwhile/);
    clock.advance(30_000);
    assert.deepEqual((await engine.tick()).replicated, ["vm"]);
    const points = await engine.points("vm");
    const out = path.join(dir, "restored");
    assert.equal((await engine.materialize("vm", points[points.length - 1].id, out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(disk)), "the point has every block it names");
  });

  it("never runs two cycles of one machine at once: later ticks and a replicate-now wait for the window in flight", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    await protectGated(engine, dir, "vm");
    await hold(dir, "vm");
    clock.advance(30_000);
    const first = engine.tick();
    await waitFor("the window to be held open", () => heldNow(dir, "vm"));
    clock.advance(30_000);
    const second = await engine.tick();
    assert.deepEqual([second.replicated, second.failed, second.skipped], [[], [], []], "no second window while one is open");
    let nowSettled = false;
    const now = engine.replicateNow("vm").finally(() => {
      nowSettled = true;
    });
    assert.equal((await logLines(dir)).filter((l) => l === "pause vm").length, 2, "the initial window and the held one only");
    assert.equal(nowSettled, false, "the replicate-now waits");
    await release(dir, "vm");
    assert.deepEqual((await first).replicated, ["vm"]);
    assert.equal((await now).state, "Succeeded");
    const windows = (await logLines(dir)).filter((l) => l.endsWith(" vm") && !l.startsWith("held"));
    assert.deepEqual(windows, ["pause vm", "resume vm", "pause vm", "resume vm", "pause vm", "resume vm"], "windows one after another");
    assert.equal((await engine.points("vm")).length, 3);
  });

  it("runs at most --max-cycles windows at once, and all due ones in the end", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const names = ["m1", "m2", "m3", "m4", "m5"];
    for (const name of names) await protectGated(engine, dir, name);
    for (const name of names) await hold(dir, name);
    clock.advance(30_000);
    const ticking = engine.tick({ maxCycles: 2 });
    const released = new Set<string>();
    while (released.size < names.length) {
      const open = Math.min(2, names.length - released.size);
      const held = await waitFor(`${open} window(s) held open`, async () => {
        const lines = await logLines(dir);
        const waiting = names.filter((n) => lines.includes(`held ${n}`) && !released.has(n));
        return waiting.length >= open && waiting;
      });
      released.add(held[0]);
      await release(dir, held[0]);
    }
    const report = await ticking;
    assert.deepEqual(report.replicated.sort(), names);
    const windows = (await logLines(dir)).slice(names.length * 2); // after the initial replications' windows
    assert.equal(mostOpenAtOnce(windows), 2);
  });

  it("a hung disk does not stop the others' points; its cycle ends at the deadline with a failure naming it", async function () {
    this.timeout(300_000);
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const { exported, hang, answer } = await hangableDisk(dir, "hung");
    await makeDisk(path.join(dir, "ok.img"), 4);
    for (const [name, disk] of [
      ["hung", exported],
      ["ok", path.join(dir, "ok.img")],
    ]) {
      const job = await engine.protect({ name, site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    }
    hang(); // every read of the export blocks from here
    clock.advance(30_000);
    const report = await engine.tick({ cycleDeadlineMs: 3000 });
    assert.deepEqual(report.replicated, ["ok"]);
    assert.equal(report.failed.length, 1);
    assert.equal(report.failed[0].item, "hung");
    assert.equal(report.failed[0].code, "DeadlineExceeded");
    assert.match(report.failed[0].message, /the replication cycle of 'hung' did not finish within its deadline of 3 s/);
    // The others keep their copy frequency while the disk hangs; its retry does not read it again.
    for (let n = 0; n < 3; n++) {
      clock.advance(60_000);
      const next = await engine.tick({ cycleDeadlineMs: 3000 });
      assert.deepEqual(next.replicated, ["ok"]);
      for (const f of next.failed) assert.match(f.message, /disk 'os' of 'hung' still has not answered a read of an earlier cycle/);
    }
    assert.equal((await engine.points("ok")).length, 5);
    assert.equal((await engine.item("hung")).healthErrors[0]?.code, "DeadlineExceeded");
    // Once the disk answers again, the machine replicates again.
    answer();
    await waitFor("the hung machine to replicate again", async () => {
      clock.advance(10 * 60_000);
      return (await engine.tick({ cycleDeadlineMs: 60_000 })).replicated.includes("hung");
    });
  });

  it("a scheduled initial replication reads its disk without the vault lock: another machine's cycle and an agent's calls go on while it hangs", async function () {
    this.timeout(300_000);
    const dir = tempDir();
    const { engine, clock, registrationKey } = await newVault(dir);
    // A disk whose reads block, protected on a policy whose initial replication starts later.
    const { image, exported, hang, answer } = await hangableDisk(dir, "big");
    await engine.addPolicy({ name: "later", copyFrequency: "30s", retentionHours: 24, initialReplicationStart: new Date(clock.now() + HOUR).toISOString() });
    const deferred = await engine.protect({ name: "big", site: "hq", policy: "later", disks: [{ name: "os", path: exported, os: true }] });
    assert.equal(deferred.state, "Suspended", JSON.stringify(deferred));
    await makeDisk(path.join(dir, "ok.img"), 4);
    assert.equal(
      (await engine.protect({ name: "ok", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "ok.img"), os: true }] })).state,
      "Succeeded",
    );
    hang();

    clock.advance(2 * HOUR);
    await engine.tick({ background: true });
    await waitFor("the initial replication of big to be reading", async () => (await engine.item("big")).state === "InitialReplicationInProgress");
    await waitFor("ok's next point, recorded while big's disk hangs", async () => (await engine.points("ok")).length === 2);
    const agent = await engine.registerAgent({ host: "agent-host", site: "hq", registrationKey });
    assert.ok(agent.token, "an agent registers (under the vault lock) meanwhile");
    await engine.agentHeartbeat("agent-host", {});
    assert.equal((await engine.points("big")).length, 0);

    answer();
    await waitFor("big's first point once its disk answers", async () => (await engine.points("big")).length === 1);
    const big = await engine.item("big");
    assert.equal(big.state, "Protected");
    const out = path.join(dir, "restore");
    assert.equal((await engine.materialize("big", "latest", out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(image)), "its point is the disk, byte for byte");
  });
});
