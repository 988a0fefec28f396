// The KVM change tracker against a real qemu-storage-daemon: guest writes go through the daemon's writable
// NBD export (qemu-io); each capture's view and list of changes are checked against a model of the disk
// built from the writes made, and against a replica kept up to date from the changes alone.
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { blockNode, QmpClient } from "../engine/qmp";
import { KvmTracker } from "../engine/tracking/kvm-tracker";
import { type Capture, type Extent, isResync } from "../engine/tracking/tracker";
import { missingQemuTools, type StorageDaemon, startStorageDaemon, writeThrough } from "./fixtures/qemu";
import { tempDir } from "./helpers";
import { waitFor } from "./wait";

const MiB = 1024 * 1024;
const SIZE = 4 * MiB;

/** A disk under test: the daemon serving it, a model of its content, and a tracker for it. */
interface Disk {
  daemon: StorageDaemon;
  start(): Promise<StorageDaemon>;
  /** What the disk holds: every write made through the daemon is made here too. */
  model: Buffer;
  tracker: KvmTracker;
  /** Write like a guest, and into the model; returns the range. */
  write(offset: number, length: number, pattern: number): Extent;
}

/** The written ranges widened to whole bitmap granules, sorted and merged: what a dirty bitmap reports. */
function granules(writes: Extent[], granularity: number): Extent[] {
  const widened = writes
    .map((w) => {
      const start = Math.floor(w.offset / granularity) * granularity;
      return { offset: start, end: Math.min(SIZE, Math.ceil((w.offset + w.length) / granularity) * granularity) };
    })
    .sort((a, b) => a.offset - b.offset);
  const merged: { offset: number; end: number }[] = [];
  for (const range of widened) {
    const last = merged.at(-1);
    if (last && range.offset <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged.map((r) => ({ offset: r.offset, length: r.end - r.offset }));
}

const wholeView = (capture: Capture) => capture.read(0, capture.size);

/** The node's bitmaps, read over a QMP connection of its own (the tracker holds none between captures). */
async function bitmaps(disk: Disk) {
  const client = await QmpClient.connect(disk.daemon.qmpSocket);
  try {
    return (await blockNode(client, disk.daemon.node)).dirtyBitmaps;
  } finally {
    await client.close();
  }
}

describe("KVM change tracker (engine/tracking) with qemu-storage-daemon", () => {
  before(function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-io", "qemu-img"]);
    if (missing.length) {
      console.log(`    skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  const dir = tempDir("lifeboat-tracker-");
  const captures: Capture[] = [];
  afterEach(async () => {
    // A failed test leaves its capture open; abandon() never rejects.
    await Promise.all(captures.splice(0).map((c) => c.abandon()));
  });

  async function diskFor(name: string, format: "raw" | "qcow2"): Promise<Disk> {
    const home = path.join(dir, name);
    await fs.mkdir(path.join(home, "scratch"), { recursive: true });
    const image = path.join(home, `disk.${format}`);
    let model: Buffer;
    if (format === "raw") {
      model = randomBytes(SIZE);
      await fs.writeFile(image, model);
    } else {
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, String(SIZE)]);
      model = Buffer.alloc(SIZE);
    }
    const start = async () => {
      disk.daemon = await startStorageDaemon({ image, format, dir: home });
      return disk.daemon;
    };
    const disk: Disk = {
      daemon: undefined as unknown as StorageDaemon,
      start,
      model,
      tracker: undefined as unknown as KvmTracker,
      write(offset, length, pattern) {
        writeThrough(disk.daemon.liveUri, offset, length, pattern);
        model.fill(pattern, offset, offset + length);
        return { offset, length };
      },
    };
    await start();
    disk.tracker = new KvmTracker({
      qmpSocket: disk.daemon.qmpSocket,
      node: disk.daemon.node,
      dir: path.join(home, "scratch"),
      nbdSocket: disk.daemon.nbdSocket,
    });
    return disk;
  }

  const begin = async (disk: Disk) => {
    const capture = await disk.tracker.begin();
    captures.push(capture);
    return capture;
  };
  const done = async (capture: Capture, how: "commit" | "abandon") => {
    await capture[how]();
    captures.splice(captures.indexOf(capture), 1);
  };

  /** The next capture must resync for `reason` (exactly, or matching) and still view the whole disk as it is; it is committed. */
  const resyncs = async (disk: Disk, reason: string | RegExp) => {
    const capture = await begin(disk);
    assert.ok(isResync(capture.changed), JSON.stringify(capture.changed));
    if (typeof reason === "string") assert.equal(capture.changed.resync, reason);
    else assert.match(capture.changed.resync, reason);
    assert.ok((await wholeView(capture)).equals(disk.model), "a resync's view is the whole disk");
    await done(capture, "commit");
  };

  for (const format of ["raw", "qcow2"] as const) {
    it(`${format}: the first capture resyncs a view equal to the disk; the next lists exactly the granules written, read as at its instant`, async () => {
      const disk = await diskFor(`first-${format}`, format);
      const first = await begin(disk);
      assert.deepEqual(first.changed, { resync: "no checkpoint yet" });
      assert.equal(first.size, SIZE);
      assert.ok((await wholeView(first)).equals(disk.model), "the first view is the disk byte for byte");
      await done(first, "commit");
      const [checkpoint, ...others] = await bitmaps(disk);
      assert.deepEqual(
        [checkpoint?.name, checkpoint?.recording, checkpoint?.persistent, others],
        ["lifeboat-1", true, format === "qcow2", []],
        "one checkpoint, recording, persistent only in a qcow2 image",
      );
      const granularity = checkpoint?.granularity ?? 0;

      const writes = [disk.write(100 * 1024, 10 * 1024, 0xa1), disk.write(3 * MiB + 5, 70_000, 0xb2), disk.write(SIZE - 512, 512, 0xc3)];
      const atInstant = Buffer.from(disk.model);
      const second = await begin(disk);
      assert.deepEqual(second.changed, granules(writes, granularity));
      // The live disk moves on over the same ranges; the view does not.
      disk.write(64 * 1024, 256 * 1024, 0xd4);
      disk.write(3 * MiB, MiB, 0xe5);
      for (const { offset, length } of second.changed as Extent[]) {
        assert.ok(
          (await second.read(offset, length)).equals(atInstant.subarray(offset, offset + length)),
          `the view at ${offset}+${length} is the disk at the capture`,
        );
      }
      assert.ok((await wholeView(second)).equals(atInstant));
      await done(second, "commit");
      assert.deepEqual(
        (await bitmaps(disk)).map((b) => [b.name, b.recording]),
        [["lifeboat-2", true]],
      );
      assert.deepEqual(await fs.readdir(path.join(path.dirname(disk.daemon.qmpSocket), "scratch")), [], "no overlay is left");
    });
  }

  it("abandon keeps the changes: write A, begin, write C, abandon, write B, begin lists A, C and B", async () => {
    const disk = await diskFor("abandon", "raw");
    // An abandoned full read leaves nothing to be incremental from.
    await done(await begin(disk), "abandon");
    assert.deepEqual(await bitmaps(disk), []);
    await resyncs(disk, "the previous capture of node 'disk' was a full read, abandoned");
    const [{ granularity } = { granularity: 0 }] = await bitmaps(disk);
    const a = disk.write(MiB, 4096, 0x11);
    const withA = await begin(disk);
    assert.deepEqual(withA.changed, granules([a], granularity));
    const c = disk.write(3 * MiB + 100, 70_000, 0x33); // lands in the new checkpoint, during the capture
    await done(withA, "abandon");
    assert.deepEqual(
      (await bitmaps(disk)).map((b) => [b.name, b.recording]),
      [["lifeboat-1", true]],
      "the rotation is undone: the new checkpoint merged into the old one, which records again under the name on record",
    );
    assert.equal(disk.tracker.checkpoint, "lifeboat-1");
    const b = disk.write(2 * MiB + 300_000, 100_000, 0x22);
    const withBoth = await begin(disk);
    assert.deepEqual(withBoth.changed, granules([a, b, c], granularity));
    assert.ok((await wholeView(withBoth)).equals(disk.model));
    await done(withBoth, "commit");
  });

  it("qcow2, QEMU killed -9 and restarted: the persistent checkpoint is inconsistent, so the capture resyncs and tracking starts afresh", async () => {
    const disk = await diskFor("killed", "qcow2");
    await done(await begin(disk), "commit");
    // Stored in the image by a graceful restart, then in use when QEMU is killed.
    await disk.daemon.stop();
    await disk.start();
    disk.write(0, 8192, 0x33);
    await disk.daemon.kill();
    await disk.start();

    await resyncs(disk, /checkpoint bitmap 'lifeboat-1' of node 'disk' is inconsistent/);
    assert.deepEqual(
      (await bitmaps(disk)).map((b) => [b.name, b.recording, b.inconsistent, b.persistent]),
      [["lifeboat-2", true, false, true]],
    );
    const write = disk.write(MiB, 512, 0x44);
    const incremental = await begin(disk);
    assert.deepEqual(incremental.changed, granules([write], 64 * 1024));
    await done(incremental, "commit");
  });

  it("raw, QEMU restarted gracefully: the non-persistent checkpoint is lost, so the capture resyncs", async () => {
    const disk = await diskFor("restarted", "raw");
    await done(await begin(disk), "commit");
    await disk.daemon.stop();
    await disk.start();
    disk.write(MiB, MiB, 0x55);
    await resyncs(disk, /checkpoint bitmap 'lifeboat-1' of node 'disk' is lost/);
  });

  it("bitmaps it cannot vouch for resync, naming why: two checkpoints, or not the one last committed", async () => {
    const disk = await diskFor("untrusted", "raw");
    await done(await begin(disk), "commit");
    const client = await QmpClient.connect(disk.daemon.qmpSocket);
    await client.execute("block-dirty-bitmap-add", { node: disk.daemon.node, name: "lifeboat-7" });
    await client.close();
    await resyncs(disk, "node 'disk' has 2 checkpoint bitmaps ('lifeboat-1', 'lifeboat-7'): a capture was neither committed nor abandoned");
    assert.deepEqual(
      (await bitmaps(disk)).map((b) => b.name),
      ["lifeboat-8"],
    );

    // The engine stored a later checkpoint than the node has: a commit that did not reach QEMU.
    const stale = new KvmTracker({ ...disk.tracker.options, checkpoint: "lifeboat-9" });
    const other = await stale.begin();
    captures.push(other);
    assert.deepEqual(other.changed, {
      resync: "node 'disk' has checkpoint bitmap 'lifeboat-8', not 'lifeboat-9' as last committed (a rotation that did not happen)",
    });
    await done(other, "commit");
    assert.equal(stale.checkpoint, "lifeboat-10");
  });

  it("a tracker process killed -9 during a capture: the next tracker ends its leftover view and resyncs", async () => {
    const disk = await diskFor("engine-killed", "raw");
    await done(await begin(disk), "commit");
    disk.write(MiB, 4096, 0x77);
    const script = `
      const { KvmTracker } = require(${JSON.stringify(path.resolve("engine/tracking/kvm-tracker.ts"))});
      new KvmTracker(${JSON.stringify({ ...disk.tracker.options, checkpoint: disk.tracker.checkpoint })})
        .begin().then(() => console.log("capturing"), (e) => { console.error(e); process.exit(1); });
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["-r", "ts-node/register", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    after(() => child.kill("SIGKILL"));
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    await waitFor("the other tracker's capture", () => output.includes("capturing"));
    child.kill("SIGKILL");
    await exited;
    const scratch = path.join(path.dirname(disk.daemon.qmpSocket), "scratch");
    assert.equal((await fs.readdir(scratch)).length, 1, "the killed tracker's overlay is there");

    await resyncs(disk, "node 'disk' has 2 checkpoint bitmaps ('lifeboat-1', 'lifeboat-2'): a capture was neither committed nor abandoned");
    assert.deepEqual(
      (await bitmaps(disk)).map((b) => [b.name, b.recording]),
      [["lifeboat-3", true]],
    );
    assert.deepEqual(await fs.readdir(scratch), [], "the leftover overlay is gone");
    const client = await QmpClient.connect(disk.daemon.qmpSocket);
    assert.deepEqual(
      (await client.execute<{ id: string }[]>("query-block-exports")).map((e) => e.id),
      ["live"],
    );
    assert.deepEqual(await client.execute("query-jobs"), []);
    await client.close();
  });

  it("QEMU killed during a capture: abandon does not reject, and the next capture resyncs naming it", async () => {
    const disk = await diskFor("killed-during", "raw");
    await done(await begin(disk), "commit");
    disk.write(0, 4096, 0x66);
    const capture = await begin(disk);
    await disk.daemon.kill();
    await assert.rejects(capture.read(0, 4096), { code: "ConnectionLost" });
    await done(capture, "abandon");
    await disk.start();
    await resyncs(disk, /previous capture of node 'disk' could not be abandoned cleanly \(QMP \S+ did not complete: the QMP connection .* (closed|failed)/);
  });

  it("five cycles of random writes: a replica updated from each capture's changes alone equals the view every time", async () => {
    const disk = await diskFor("cycles", "qcow2");
    const replica = path.join(dir, "cycles", "replica.raw");
    const first = await begin(disk);
    await fs.writeFile(replica, await wholeView(first));
    await done(first, "commit");
    const random = (below: number) => Math.floor(Math.random() * below);
    for (let cycle = 1; cycle <= 5; cycle++) {
      for (let i = 0; i < 6; i++) disk.write(random(SIZE - 200_000), 1 + random(200_000), 1 + random(255));
      const atInstant = Buffer.from(disk.model);
      const capture = await begin(disk);
      assert.ok(!isResync(capture.changed), `cycle ${cycle}: ${JSON.stringify(capture.changed)}`);
      // Writes during the cycle belong to the next one.
      disk.write(random(SIZE - 100_000), 1 + random(100_000), 1 + random(255));
      const handle = await fs.open(replica, "r+");
      try {
        // Cycle 3 fails half way through: the replica is left part-updated, and the next capture must repair it.
        const extents = cycle === 3 ? capture.changed.slice(0, Math.ceil(capture.changed.length / 2)) : capture.changed;
        for (const { offset, length } of extents) await handle.write(await capture.read(offset, length), 0, length, offset);
      } finally {
        await handle.close();
      }
      if (cycle === 3) {
        await done(capture, "abandon");
        continue;
      }
      const view = await wholeView(capture);
      assert.ok(view.equals(atInstant), `cycle ${cycle}: the view is the disk at the capture`);
      assert.ok((await fs.readFile(replica)).equals(view), `cycle ${cycle}: the replica equals the view`);
      await done(capture, "commit");
    }
  });
});
