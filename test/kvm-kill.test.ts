// Kills at random moments of a tracked cycle, against the real QEMU serving the disk: QEMU itself (SIGKILL,
// then started again on the same image), and our own process (a `lifeboat sync` killed mid-cycle, then run
// again). Whatever the moment, every point the vault lists is byte-exact against the `qemu-img convert` copy
// taken before that cycle (nothing writes during one), and the next cycle succeeds.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Engine } from "../engine";
import { ManualClock } from "../engine/clock";
import { lifeboat, spawnLifeboat } from "./cli";
import { missingQemuTools, type StorageDaemon, startStorageDaemon, writeThrough } from "./fixtures/qemu";
import { tempDir } from "./helpers";

const MiB = 1024 * 1024;
const DISK_BYTES = 48 * MiB;

/** A uniformly random moment in [0, ms). */
const randomDelay = (ms: number) => new Promise((r) => setTimeout(r, Math.random() * ms));

class KvmDisk {
  daemon!: StorageDaemon;
  constructor(
    readonly dir: string,
    readonly image: string,
  ) {}

  static async make(): Promise<KvmDisk> {
    const dir = tempDir("lb-kvk-");
    const disk = new KvmDisk(dir, path.join(dir, "disk.qcow2"));
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk.image, String(DISK_BYTES)]);
    await disk.start();
    for (let mb = 0; mb < DISK_BYTES / MiB; mb += 3) writeThrough(disk.daemon.liveUri, mb * MiB, MiB, 1 + (mb % 250));
    return disk;
  }

  async start(): Promise<void> {
    this.daemon = await startStorageDaemon({ image: this.image, format: "qcow2", dir: this.dir, nbdSocket: path.join(this.dir, "qmp.sock.nbd") });
  }

  /** A few guest writes, then the guest's disk as qemu-img copies it through the live export. */
  async write(round: number): Promise<Buffer> {
    for (let n = 0; n < 5; n++)
      writeThrough(this.daemon.liveUri, Math.floor(Math.random() * (DISK_BYTES - 70_000)), 1 + Math.floor(Math.random() * 70_000), 0x80 + round);
    return this.copy();
  }

  async copy(): Promise<Buffer> {
    const out = path.join(this.dir, "copy.raw");
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "raw", this.daemon.liveUri, out]);
    return fs.readFile(out);
  }
}

/** Every point the vault lists, materialized, equals one of the copies taken before a cycle: the one of its cycle. */
async function assertPointsExact(engine: Engine, dir: string, expected: Map<string, Buffer>): Promise<void> {
  for (const point of await engine.points("vm")) {
    const want = expected.get(point.id);
    assert.ok(want, `point ${point.id} was not assigned a copy`);
    const out = path.join(dir, "restore", point.id);
    const job = await engine.materialize("vm", point.id, out);
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(want), `point ${point.id} is byte-exact`);
    await fs.rm(out, { recursive: true });
  }
}

/** Points not yet assigned a copy get `copy`: they were made by the cycle that ran after it was taken. */
async function assign(engine: Engine, expected: Map<string, Buffer>, copy: Buffer): Promise<void> {
  for (const point of await engine.points("vm")) if (!expected.has(point.id)) expected.set(point.id, copy);
}

describe("kvm: kills at random moments of a tracked cycle", function () {
  this.timeout(600_000);
  before(function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-img", "qemu-io"]);
    if (missing.length) {
      console.log(`      skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  it("QEMU killed mid-cycle, six times: every listed point byte-exact, the next cycle succeeds", async () => {
    const disk = await KvmDisk.make();
    const clock = new ManualClock();
    const { engine } = await Engine.init(path.join(disk.dir, "vault"), { clock });
    after(() => engine.close());
    await engine.addSite({ name: "kv", kind: "kvm" });
    await engine.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24 });
    const expected = new Map<string, Buffer>();
    const initial = await disk.copy();
    const job = await engine.protect({ name: "vm", site: "kv", policy: "gold", qmp: disk.daemon.qmpSocket, disks: [{ name: "os", node: "disk", os: true }] });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    await assign(engine, expected, initial);
    // How long a cycle takes here, now: the kills fall anywhere in such a span.
    const calibration = await disk.write(100);
    clock.advance(30_000);
    let began = Date.now();
    assert.equal((await engine.replicateNow("vm")).state, "Succeeded");
    const span = Date.now() - began;
    await assign(engine, expected, calibration);
    let outcomes = "";
    for (let round = 0; round < 6; round++) {
      const copy = await disk.write(round);
      clock.advance(30_000);
      began = Date.now();
      const sync = engine.replicateNow("vm");
      await randomDelay(span);
      await disk.daemon.kill();
      const result = await sync;
      outcomes += `${result.state} after ${Date.now() - began} ms; `;
      await assign(engine, expected, copy);
      await disk.start();
      // The guest's writes were flushed by qemu-io before the kill: the disk is what the copy says.
      assert.ok((await disk.copy()).equals(copy), "the disk after QEMU's restart is what it was before the kill");
      if (result.state !== "Succeeded") {
        clock.advance(30_000);
        const again = await engine.replicateNow("vm");
        assert.equal(again.state, "Succeeded", JSON.stringify(again.error));
        await assign(engine, expected, copy);
      }
    }
    console.log(`      cycles with QEMU killed within ${span} ms: ${outcomes}`);
    await assertPointsExact(engine, disk.dir, expected);
    // And tracking holds again afterwards: after one cycle that may read all (the last kill), one small write reads little.
    clock.advance(30_000);
    await engine.replicateNow("vm");
    clock.advance(30_000);
    writeThrough(disk.daemon.liveUri, 0, 100, 0x7e);
    const last = await engine.replicateNow("vm");
    assert.equal(last.state, "Succeeded");
    assert.ok((last.result as { points: Array<{ bytesRead: number }> }).points[0].bytesRead < DISK_BYTES / 4, "tracking resumed");
  });

  it("our process (lifeboat sync) killed mid-cycle, six times: every listed point byte-exact, the next sync succeeds", async () => {
    const disk = await KvmDisk.make();
    const vault = path.join(disk.dir, "vault");
    const run = async (...args: string[]) => {
      const r = await lifeboat(["--vault", vault, ...args]);
      assert.equal(r.code, 0, `lifeboat ${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    await run("vault", "init", vault);
    await run("site", "add", "kv", "--kind", "kvm");
    await run("policy", "add", "gold", "--copy-frequency", "30s");
    const expected = new Map<string, Buffer>();
    const initial = await disk.copy();
    await run("protect", "vm", "--site", "kv", "--policy", "gold", "--qmp", disk.daemon.qmpSocket, "--disk", "os=disk:os");
    const points = async () => (JSON.parse((await run("points", "vm", "--json")).stdout) as Array<{ id: string }>).map((p) => p.id);
    const assignCli = async (copy: Buffer) => {
      for (const id of await points()) if (!expected.has(id)) expected.set(id, copy);
    };
    await assignCli(initial);
    // How long a whole sync takes here, now (start-up, then the cycle): the kills fall anywhere in such a span.
    const calibration = await disk.write(100);
    const began = Date.now();
    await run("sync", "vm");
    const span = Date.now() - began;
    await assignCli(calibration);
    let outcomes = "";
    for (let round = 0; round < 6; round++) {
      const copy = await disk.write(round);
      const child = spawnLifeboat(["--vault", vault, "sync", "vm"]);
      const closed = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
      await randomDelay(span);
      child.kill("SIGKILL");
      outcomes += `exit ${await closed}; `;
      await assignCli(copy);
      const again = await lifeboat(["--vault", vault, "sync", "vm"]);
      assert.equal(again.code, 0, `the sync after the kill: ${again.stderr}`);
      await assignCli(copy);
    }
    console.log(`      syncs killed within ${span} ms: ${outcomes}`);
    const status = (await run("status", "vm")).stdout;
    assert.match(status, /disk os: block node disk of the QEMU at .*qmp\.sock, tracked by dirty bitmap \(checkpoint lifeboat-\d+\)/);
    const engine = await Engine.open(vault);
    after(() => engine.close());
    await assertPointsExact(engine, disk.dir, expected);
    assert.deepEqual(await fs.readdir(path.join(vault, "views")), [], "no overlay of a killed process's view is left (the next sync ended it)");
  });
});
