// Machines on a kvm site, replicated through the real QEMU that serves their disks (qemu-storage-daemon from
// Debian): the engine's cycles follow QEMU's dirty bitmaps, read only what changed from a point-in-time view,
// fall back to reading the whole disk (saying why in the item's health) when the bitmap cannot be trusted,
// and every point is byte-exact against a `qemu-img convert` copy of the disk taken at its capture.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Engine } from "../engine";
import type { ManualClock } from "../engine/clock";
import { blockNodes, QmpClient } from "../engine/qmp";
import { missingQemuTools, type StorageDaemon, startStorageDaemon, writeThrough } from "./fixtures/qemu";
import { kvmVault, snapshotTree, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;
const DISK_BYTES = 32 * MiB;

interface Setup {
  dir: string;
  image: string;
  format: "raw" | "qcow2";
  daemon: StorageDaemon;
  engine: Engine;
  clock: ManualClock;
}

/** A disk image of `format` with data at a few places, served by qemu-storage-daemon, and a vault with a kvm site. */
async function setup(format: "raw" | "qcow2"): Promise<Setup> {
  const dir = tempDir("lb-kvm-");
  const image = path.join(dir, `disk.${format}`);
  execFileSync("qemu-img", ["create", "-q", "-f", format, image, String(DISK_BYTES)]);
  const daemon = await serve(dir, image, format);
  for (const [offset, length, pattern] of [
    [0, 2 * MiB, 0x11],
    [5 * MiB + 1000, 300_000, 0x22],
    [DISK_BYTES - BLOCK, BLOCK, 0x33],
  ])
    writeThrough(daemon.liveUri, offset, length, pattern);
  const { engine, clock } = await kvmVault(path.join(dir, "v"));
  return { dir, image, format, daemon, engine, clock };
}

/** The engine reads views through QEMU's NBD server at `<qmp socket>.nbd`: the daemon's own server listens there. */
const serve = (dir: string, image: string, format: "raw" | "qcow2") => startStorageDaemon({ image, format, dir, nbdSocket: path.join(dir, "qmp.sock.nbd") });

/** The disk as the guest sees it now, copied by qemu-img through the daemon's live export. */
async function guestCopy(s: Setup, name: string): Promise<Buffer> {
  const out = path.join(s.dir, `${name}.raw`);
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "raw", s.daemon.liveUri, out]);
  return fs.readFile(out);
}

async function pointBytes(s: Setup, point: string): Promise<Buffer> {
  const out = path.join(s.dir, "restore", point);
  const job = await s.engine.materialize("vm", point, out);
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return fs.readFile(path.join(out, "os"));
}

interface SyncedPoint {
  id: string;
  bytesRead: number;
  blocksChanged: number;
}

async function cycle(s: Setup): Promise<SyncedPoint> {
  s.clock.advance(30_000);
  const sync = await s.engine.replicateNow("vm");
  assert.equal(sync.state, "Succeeded", JSON.stringify(sync.error));
  return (sync.result as { points: SyncedPoint[] }).points[0];
}

const protect = (s: Setup) =>
  s.engine.protect({ name: "vm", site: "kv", policy: "gold", qmp: s.daemon.qmpSocket, disks: [{ name: "os", node: s.daemon.node, os: true }] });

describe("kvm machines: replication follows QEMU's dirty bitmaps", function () {
  this.timeout(120_000);
  before(function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-img", "qemu-io"]);
    if (missing.length) {
      console.log(`      skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  for (const format of ["qcow2", "raw"] as const) {
    it(`${format}: initial replication, then cycles that read only the changed blocks, every point byte-exact`, async () => {
      const s = await setup(format);
      const job = await protect(s);
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      const copies = new Map<string, Buffer>();
      const [first] = await s.engine.points("vm");
      copies.set(first.id, await guestCopy(s, "first"));
      const status = await s.engine.item("vm");
      assert.equal(status.qmp, s.daemon.qmpSocket);
      assert.equal(status.disks[0].tracking, "dirty-bitmap");
      assert.match(status.disks[0].checkpoint ?? "", /^lifeboat-\d+$/);
      assert.equal(status.disks[0].trackingReset, null);
      assert.equal(status.disks[0].replicatedSize, DISK_BYTES);

      for (let n = 0; n < 4; n++) {
        // Three writes, one straddling a block boundary: at most 4 blocks of 64 KiB change.
        writeThrough(s.daemon.liveUri, (7 + n) * MiB, 4096, 0x40 + n);
        writeThrough(s.daemon.liveUri, (12 + n) * MiB - 100, 200, 0x50 + n);
        writeThrough(s.daemon.liveUri, 0, 512, 0x60 + n);
        const point = await cycle(s);
        copies.set(point.id, await guestCopy(s, `c${n}`));
        assert.ok(point.blocksChanged >= 3 && point.blocksChanged <= 4, `blocks changed: ${point.blocksChanged}`);
        assert.ok(point.bytesRead <= 4 * BLOCK, `a tracked cycle reads the changed blocks only, read ${point.bytesRead} bytes`);
      }
      const after = await s.engine.item("vm");
      assert.equal(after.health, "Normal", JSON.stringify(after.healthErrors));
      for (const point of await s.engine.points("vm")) assert.ok((await pointBytes(s, point.id)).equals(copies.get(point.id)!), `point ${point.id}`);
    });
  }

  it("qcow2 after QEMU was killed: the untrustworthy bitmap makes the next cycle read the whole disk, with the reason in health; then tracking resumes", async () => {
    const s = await setup("qcow2");
    assert.equal((await protect(s)).state, "Succeeded");
    writeThrough(s.daemon.liveUri, 3 * MiB, 10_000, 0x71);
    await cycle(s);
    await s.daemon.kill();
    s.daemon = await serve(s.dir, s.image, s.format);
    writeThrough(s.daemon.liveUri, 9 * MiB, 70_000, 0x72);

    const whole = await cycle(s);
    assert.equal(whole.bytesRead, DISK_BYTES, "the fallback reads the whole disk");
    assert.ok((await pointBytes(s, whole.id)).equals(await guestCopy(s, "whole")));
    const reset = await s.engine.item("vm");
    // A bitmap QEMU had stored in the image comes back inconsistent; one made since (this cycle's) is not there at all.
    assert.match(reset.disks[0].trackingReset ?? "", /inconsistent|lost/);
    const warning = reset.healthErrors.find((e) => e.code === "TrackingReset");
    assert.ok(warning, JSON.stringify(reset.healthErrors));
    assert.match(warning.message, /disk os: change tracking was reset \(checkpoint bitmap 'lifeboat-\d+' of node 'disk' is (inconsistent|lost)/);
    assert.equal(reset.health, "Warning");

    writeThrough(s.daemon.liveUri, 20 * MiB, 100, 0x73);
    const tracked = await cycle(s);
    assert.ok(tracked.bytesRead <= BLOCK, `tracked again: read ${tracked.bytesRead} bytes`);
    assert.ok((await pointBytes(s, tracked.id)).equals(await guestCopy(s, "tracked")));
    const healed = await s.engine.item("vm");
    assert.equal(healed.disks[0].trackingReset, null);
    assert.equal(healed.health, "Normal", JSON.stringify(healed.healthErrors));
  });

  it("raw after a graceful restart of QEMU: the bitmap is gone (not persistent), so the next cycle reads the whole disk, naming the lost bitmap", async () => {
    const s = await setup("raw");
    assert.equal((await protect(s)).state, "Succeeded");
    await s.daemon.stop();
    s.daemon = await serve(s.dir, s.image, s.format);
    writeThrough(s.daemon.liveUri, 2 * MiB, 5000, 0x81);
    const whole = await cycle(s);
    assert.equal(whole.bytesRead, DISK_BYTES);
    assert.ok((await pointBytes(s, whole.id)).equals(await guestCopy(s, "whole")));
    assert.match((await s.engine.item("vm")).disks[0].trackingReset ?? "", /lost/);
  });

  it("a disk moved to another node is read whole, not trusted to a bitmap found there", async () => {
    const s = await setup("qcow2");
    assert.equal((await protect(s)).state, "Succeeded");
    // The same QEMU serves the disk's file node too: a different node, with no checkpoint on record for it.
    await s.engine.updateItem("vm", { diskPaths: { os: "disk-file" } });
    assert.equal((await s.engine.item("vm")).disks[0].checkpoint, null);
    await s.engine.updateItem("vm", { diskPaths: { os: "disk" } });
    writeThrough(s.daemon.liveUri, 4 * MiB, 100, 0x91);
    const whole = await cycle(s);
    assert.equal(whole.bytesRead, DISK_BYTES, "the bitmap still on node 'disk' is not trusted once its checkpoint was forgotten");
    assert.ok((await pointBytes(s, whole.id)).equals(await guestCopy(s, "moved")));
    assert.match((await s.engine.item("vm")).disks[0].trackingReset ?? "", /no checkpoint is recorded/);
  });

  it("a machine with two disks on one QEMU (qcow2 and raw): both tracked through one monitor, every point byte-exact on both", async () => {
    const dir = tempDir("lb-kv2-");
    const os = path.join(dir, "os.qcow2");
    const data = path.join(dir, "data.raw");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", os, String(DISK_BYTES)]);
    execFileSync("qemu-img", ["create", "-q", "-f", "raw", data, String(DISK_BYTES / 2)]);
    const daemon = await startStorageDaemon({
      image: os,
      format: "qcow2",
      dir,
      nbdSocket: path.join(dir, "qmp.sock.nbd"),
      more: [{ image: data, format: "raw", node: "data" }],
    });
    const dataUri = daemon.liveUri.replace("///live?", "///live-data?");
    writeThrough(daemon.liveUri, 0, MiB, 0x12);
    writeThrough(dataUri, MiB, MiB, 0x13);
    const { engine, clock } = await kvmVault(path.join(dir, "v"));
    const job = await engine.protect({
      name: "vm",
      site: "kv",
      policy: "gold",
      qmp: daemon.qmpSocket,
      disks: [
        { name: "os", node: "disk", os: true },
        { name: "data", node: "data" },
      ],
    });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    const copy = (uri: string, name: string) => {
      const out = path.join(dir, `${name}.raw`);
      execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "raw", uri, out]);
      return fs.readFile(out);
    };
    const copies = new Map<string, { os: Buffer; data: Buffer }>();
    copies.set((await engine.points("vm"))[0].id, { os: await copy(daemon.liveUri, "os0"), data: await copy(dataUri, "data0") });
    for (let n = 0; n < 3; n++) {
      writeThrough(daemon.liveUri, (3 + n) * MiB, 1000, 0x20 + n);
      writeThrough(dataUri, (2 + n) * MiB, 1000, 0x30 + n);
      clock.advance(30_000);
      const sync = await engine.replicateNow("vm");
      assert.equal(sync.state, "Succeeded", JSON.stringify(sync.error));
      const point = (sync.result as { points: SyncedPoint[] }).points[0];
      assert.ok(point.bytesRead <= 2 * BLOCK, `two blocks changed, read ${point.bytesRead} bytes`);
      copies.set(point.id, { os: await copy(daemon.liveUri, `os${n + 1}`), data: await copy(dataUri, `data${n + 1}`) });
    }
    for (const point of await engine.points("vm")) {
      const out = path.join(dir, "restore", point.id);
      assert.equal((await engine.materialize("vm", point.id, out)).state, "Succeeded");
      assert.ok((await fs.readFile(path.join(out, "os"))).equals(copies.get(point.id)!.os), `os at ${point.id}`);
      assert.ok((await fs.readFile(path.join(out, "data"))).equals(copies.get(point.id)!.data), `data at ${point.id}`);
    }
    assert.deepEqual(
      (await engine.item("vm")).disks.map((d) => [d.name, d.tracking, d.trackingReset]),
      [
        ["os", "dirty-bitmap", null],
        ["data", "dirty-bitmap", null],
      ],
    );
  });

  it("unprotect removes the checkpoint bitmaps from QEMU (they would go on recording every write)", async () => {
    const s = await setup("qcow2");
    assert.equal((await protect(s)).state, "Succeeded");
    const bitmaps = async () => {
      const qmp = await QmpClient.connect(s.daemon.qmpSocket);
      try {
        return (await blockNodes(qmp)).find((n) => n.nodeName === "disk")!.dirtyBitmaps.map((b) => b.name);
      } finally {
        await qmp.close();
      }
    };
    assert.equal((await bitmaps()).length, 1, "one checkpoint while protected");
    const job = await s.engine.unprotect("vm");
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.deepEqual(await bitmaps(), []);
    assert.equal((job.result as { trackingLeft?: string }).trackingLeft, undefined);
  });

  it("bad input names the property and changes nothing: kvm site without qmp, qmp on another kind of site, unknown node, a socket that is not QMP", async () => {
    const s = await setup("raw");
    const before = await snapshotTree(path.join(s.dir, "v", "vault"));
    const refused = async (spec: Record<string, unknown>, property: string, reason: RegExp) => {
      await assert.rejects(
        s.engine.protect({ name: "vm", policy: "gold", ...spec }),
        (e: { code?: string; failures?: Array<{ property: string; reason: string }> }) => {
          assert.equal(e.code, "InvalidInput");
          const failure = e.failures?.find((f) => f.property === property);
          assert.ok(failure, `a failure at ${property}: ${JSON.stringify(e.failures)}`);
          assert.match(failure.reason, reason);
          return true;
        },
      );
    };
    const disk = [{ name: "os", node: "disk", os: true }];
    await refused({ site: "kv", disks: [{ name: "os", path: s.image, os: true }] }, "qmp", /kvm site: give the QMP socket/);
    await refused({ site: "hq", qmp: s.daemon.qmpSocket, disks: disk }, "qmp", /belongs on a kvm site/);
    await refused(
      { site: "kv", qmp: s.daemon.qmpSocket, disks: [{ name: "os", node: "nope", os: true }] },
      "disks.0.node",
      /not a block node .*named nodes: .*disk/,
    );
    await refused({ site: "kv", qmp: s.image, disks: disk }, "qmp", /does not answer as a QMP monitor/);
    await refused({ site: "kv", qmp: s.daemon.qmpSocket, disks: [{ name: "os", node: "disk", path: s.image, os: true }] }, "disks.0.path", /by block node/);
    await refused({ site: "kv", disks: disk }, "disks.0.node", /needs the machine's QMP socket/);
    await refused({ site: "kv", qmp: s.daemon.qmpSocket, disks: [{ name: "os", node: "9bad", os: true }] }, "disks.0.node", /start with a letter/);
    await refused({ site: "kv", qmp: `/tmp/${"q".repeat(110)}`, disks: disk }, "qmp", /107-byte limit/);
    assert.deepEqual((await s.engine.status()).items, []);
    assert.deepEqual(await snapshotTree(path.join(s.dir, "v", "vault")), before);
  });
});
