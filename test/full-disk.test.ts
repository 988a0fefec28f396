import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { promises as fs, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Engine, ManualClock, type JobView } from "../engine";
import type { VaultOptions } from "../engine/vault";
import { classify } from "../engine/errors";
import { openCatalog } from "../engine/catalog/catalog";
import { SqlPackIndex } from "../engine/catalog/sql-pack-index";
import { LocalBackend } from "../engine/store/local/local-backend";
import { PackedBlockStore } from "../engine/store/packed/packed-block-store";
import { writeAll, writevAll } from "../engine/io/write-all";
import { ShortWritingBackend, SpaceBudget, shortWritingFile } from "./fixtures/faulty-store";
import { makeDisk, overwriteBlocks, snapshotTree, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const run = promisify(execFile);
const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");

/** A vault with site "hq", policy "gold" and machine "vm" whose one disk is `disk`; the protect job is returned, whatever its end. */
async function protectVm(vaultDir: string, disk: string, options: VaultOptions): Promise<{ engine: Engine; job: JobView }> {
  const { engine } = await Engine.init(vaultDir, options);
  await engine.addSite({ name: "hq", kind: "hyperv", hosts: ["host1"] });
  await engine.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24 });
  const job = await engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
  return { engine, job };
}

/**
 * What each recovery point of "vm" must give back: the source disk's SHA-256 when the cycle that made
 * it ran (the disk does not change during a cycle). `check` materializes every listed point.
 */
class PointLedger {
  private readonly expected = new Map<string, string>();
  engine!: Engine;

  constructor(
    private readonly disk: string,
    private readonly outRoot: string,
  ) {}

  async succeeded(job: JobView): Promise<void> {
    assert.equal(job.state, "Succeeded", `${job.type}: ${JSON.stringify(job.error)}`);
    const hash = await sha256(this.disk);
    for (const point of await this.engine.points("vm")) if (!this.expected.has(point.id)) this.expected.set(point.id, hash);
    await this.check();
  }

  async failedFull(job: JobView): Promise<void> {
    assert.equal(job.state, "Failed", `${job.type} was expected to fail on the full store`);
    assert.equal(job.error?.code, "StoreFull", JSON.stringify(job.error));
    assert.equal((await this.engine.item("vm")).healthErrors[0]?.code, "StoreFull");
    await this.check();
  }

  /** Exactly the points of successful cycles are listed, and each materializes byte-exact. */
  async check(): Promise<void> {
    const points = await this.engine.points("vm");
    assert.deepEqual(points.map((p) => p.id).sort(), [...this.expected.keys()].sort(), "only successful cycles list points");
    for (const point of points) {
      const out = path.join(this.outRoot, point.id);
      const job = await this.engine.materialize("vm", point.id, out);
      assert.equal(job.state, "Succeeded", `point ${point.id}: ${JSON.stringify(job.error)}`);
      assert.equal(await sha256(path.join(out, "os")), this.expected.get(point.id), `point ${point.id} gives back the disk as it was`);
      await fs.rm(out, { recursive: true });
    }
  }
}

/** Temporary files of interrupted writes anywhere under a directory. */
const temporaries = async (dir: string) => (await snapshotTree(dir)).filter((f) => /\.(tmp|partial) \d+$/.test(f));

describe("full disk: no listed point that cannot be restored", () => {
  it("writeAll and writevAll carry on after short writes and fail with ENOSPC (StoreFull) once a write makes no progress", async () => {
    const dir = tempDir();
    const file = path.join(dir, "out");
    const budget = new SpaceBudget();
    const handle = shortWritingFile(await fs.open(file, "w"), budget);
    try {
      budget.perWrite = 1000; // every call goes short but makes progress
      const parts = Array.from({ length: 5 }, (_, i) => Buffer.alloc(3000, i + 1));
      assert.equal(await writevAll(handle, parts, 10, file), 15_000);
      const single = Buffer.alloc(2500, 9);
      assert.equal(await writeAll(handle, single, 15_010, file), 2500);
      const expected = Buffer.concat([Buffer.alloc(10), ...parts, single]);
      assert.ok((await fs.readFile(file)).equals(expected), "every byte landed where it was asked to");

      budget.left = 500; // the filesystem fills up: one short write, then writes of nothing
      const error = await writeAll(handle, Buffer.alloc(2000, 7), 0, file).then(
        () => assert.fail("a write that cannot finish must fail"),
        (e: unknown) => e,
      );
      assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
      assert.match(String(error), /500 of 2000 bytes/);
      assert.equal(classify(error).code, "StoreFull");
      assert.equal(classify(error).recoverable, true);
    } finally {
      await handle.close();
    }
  });

  it("a backend that resolves a put it stored short: the pack is not indexed, the flush fails, and the block is written again", async () => {
    const dir = tempDir();
    const db = await openCatalog(path.join(dir, "catalog.sqlite"));
    after(() => db.destroy());
    /** Keeps only the first 1000 bytes of each object while `cut`, and says nothing. */
    class CuttingBackend extends LocalBackend {
      cut = true;
      override put(name: string, parts: Buffer[]) {
        return super.put(name, this.cut ? [Buffer.concat(parts).subarray(0, 1000)] : parts);
      }
    }
    const backend = new CuttingBackend(path.join(dir, "store"));
    const store = new PackedBlockStore(backend, new SqlPackIndex(db));
    const block = randomBytes(65536);
    const id = createHash("sha256").update(block).digest("hex");
    await store.put(id, block);
    const error = await store.flush().then(
      () => assert.fail("a short pack must fail the flush"),
      (e: unknown) => e,
    );
    assert.match(String(error), /holds 1000 of its 65536 bytes/);
    assert.equal(classify(error).recoverable, true);
    assert.equal(await store.has(id), false, "a block of a short pack is not stored");
    assert.deepEqual(await backend.list("packs/"), [], "the short pack is removed");
    backend.cut = false;
    assert.equal(await store.put(id, block), 65536);
    await store.flush();
    assert.ok((await store.get(id)).equals(block));
    await store.close();
  });

  it("injected short writes: the cycle fails StoreFull, lists no unrestorable point, and the retry repairs even packs an older version left short", async () => {
    const dir = tempDir();
    const vaultDir = path.join(dir, "vault");
    const disk = path.join(dir, "os.img");
    await makeDisk(disk, 1280, 1_000_000); // 80 MiB of random data: about 2.5 packs
    const clock = new ManualClock();
    const budget = new SpaceBudget();
    const options: VaultOptions = { clock, backend: (storeDir) => new ShortWritingBackend(storeDir, budget) };
    const ledger = new PointLedger(disk, tempDir());

    // Room for the first 32 MiB pack and part of the second, whose writes then go short.
    budget.left = 40 * MiB;
    const first = await protectVm(vaultDir, disk, options);
    let engine = (ledger.engine = first.engine);
    await ledger.failedFull(first.job);
    assert.deepEqual(await temporaries(path.join(vaultDir, "store")), [], "a failed pack write leaves no temporary file");

    // An older version indexed packs its short writes had cut: cut the indexed packs as it did, then
    // open the vault afresh (a new process) with space again. The retry must not skip their blocks.
    const packs = (await engine.vault.db.selectFrom("blocks").select("pack").distinct().execute()).map((r) => path.join(vaultDir, "store", r.pack));
    assert.ok(packs.length > 0, "the failed cycle indexed a whole pack");
    await engine.close();
    for (const pack of packs) await fs.truncate(pack, Math.floor((await fs.stat(pack)).size / 2));
    budget.left = Infinity;
    engine = ledger.engine = await Engine.open(vaultDir, options);
    try {
      clock.advance(60_000);
      await ledger.succeeded(await engine.replicateNow("vm"));

      // A delta cycle that fills the store, then its retry.
      await overwriteBlocks(disk, 0, 480); // 30 MiB changed: under the half of the disk that calls for a resync
      budget.left = 16 * MiB;
      clock.advance(60_000);
      await ledger.failedFull(await engine.replicateNow("vm"));
      budget.left = Infinity;
      clock.advance(60_000);
      await ledger.succeeded(await engine.replicateNow("vm"));
      assert.equal((await engine.item("vm")).health, "Normal");
    } finally {
      await engine.close();
    }
  });
});

/**
 * A real full filesystem: a small ext4 image, loop-mounted, holds the vault. Needs root and loop
 * devices; skipped with a message where either is missing.
 */
describe("full disk: the vault on a real ext4 filesystem that runs out of space", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "lifeboat-fulldisk-"));
  const image = path.join(root, "vault.img");
  const mount = path.join(root, "mnt");
  let mounted = false;

  const mountImage = async () => {
    await run("mount", ["-o", "loop", image, mount]);
    mounted = true;
  };
  const unmount = async () => {
    if (!mounted) return;
    await run("umount", [mount]).catch(() => run("umount", ["-l", mount]));
    mounted = false;
  };
  /** Bytes free for the engine (it runs as root here, so the blocks ext4 reserves for root count). */
  const free = async () => {
    const stats = await fs.statfs(mount);
    return stats.bfree * stats.bsize;
  };
  /**
   * Grow the filesystem, as an operator would (unmount, grow the image, check, resize2fs, mount), until
   * at least `wanted` bytes are free.
   */
  const grow = async (wanted: number) => {
    const before = (await fs.statfs(mount)).blocks;
    while ((await free()) < wanted) {
      const size = (await fs.stat(image)).size + Math.ceil((wanted - (await free())) / 0.95 / MiB + 1) * MiB; // ext4 keeps ~5% of what is added
      await unmount();
      await run("truncate", ["-s", String(size), image]);
      await run("e2fsck", ["-f", "-y", image]).catch((e: { code?: number }) => (e.code === 1 ? undefined : Promise.reject(e))); // 1: errors corrected
      await run("resize2fs", [image]);
      await mountImage();
    }
    assert.ok((await fs.statfs(mount)).blocks > before, "the filesystem grew");
  };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log("      (skipped: loop-mounting an ext4 image needs root)");
      return this.skip();
    }
    try {
      await fs.mkdir(mount);
      await run("truncate", ["-s", "48M", image]);
      await run("mkfs.ext4", ["-q", "-F", image]);
      await mountImage();
    } catch (error) {
      console.log(`      (skipped: cannot make and loop-mount an ext4 image: ${(error as Error).message.split("\n")[0]})`);
      return this.skip();
    }
  });

  after(async () => {
    await unmount();
    rmSync(root, { recursive: true, force: true });
  });

  it("fails StoreFull, lists only points that materialize byte-exact, and succeeds once the filesystem is grown (initial and delta cycles)", async () => {
    const disk = path.join(root, "os.img");
    await makeDisk(disk, 1536, 1_000_000); // 96 MiB of random data: more than the 48 MiB filesystem holds
    const vaultDir = path.join(mount, "vault");
    const options: VaultOptions = { clock: new ManualClock() };
    const ledger = new PointLedger(disk, tempDir());
    const reopen = async () => (ledger.engine = await Engine.open(vaultDir, options));

    const first = await protectVm(vaultDir, disk, options);
    ledger.engine = first.engine;
    await ledger.failedFull(first.job);
    assert.deepEqual(await temporaries(mount), [], "nothing half-written is left on the full filesystem");
    await ledger.engine.close();
    await grow(96 * MiB);
    await reopen();
    await ledger.succeeded(await ledger.engine.replicateNow("vm"));

    // Two delta cycles, each changing 44 MiB (under the half of the disk that calls for a resync instead), more than is free.
    for (const from of [0, 704]) {
      await overwriteBlocks(disk, from, from + 704);
      assert.ok((await free()) < 44 * MiB, `the change is more than the ${await free()} bytes free`);
      await ledger.failedFull(await ledger.engine.replicateNow("vm"));
      assert.deepEqual(await temporaries(mount), []);
      if (from === 0) {
        // A disk materialized onto the full filesystem fails the same way, leaving neither the disk nor its partial file.
        const restore = path.join(mount, "restore");
        const job = await ledger.engine.materialize("vm", "latest", restore);
        assert.equal(job.state, "Failed");
        assert.equal(job.error?.code, "StoreFull", JSON.stringify(job.error));
        assert.deepEqual(await fs.readdir(restore), [], "no disk file, whole or partial, is left");
        await fs.rmdir(restore);
      }
      await ledger.engine.close();
      await grow(64 * MiB);
      await reopen();
      await ledger.succeeded(await ledger.engine.replicateNow("vm"));
    }
    assert.equal((await ledger.engine.item("vm")).health, "Normal");
    await ledger.engine.close();
  });
});
