import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { makeDisk, randomWrites, recoveryVault, tempDir } from "./helpers";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

/** Protect vm (one 64-block disk), fail it over, commit and reprotect: it now replicates from dr/vm. */
async function reprotected(engine: Engine, dir: string, name = "vm") {
  const disk = path.join(dir, `${name}.img`);
  await makeDisk(disk, 64);
  await engine.protect({ name, site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }], recovery: { site: "dr" } });
  assert.equal((await engine.failover(name, { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
  assert.equal((await engine.commit(name)).state, "Succeeded");
  assert.equal((await engine.reprotect(name)).state, "Succeeded");
  return { disk, recoveryDisk: path.join(dir, "dr", name, "os") };
}

describe("failback options and migration", () => {
  it("failback to the original location writes only differing blocks; full download writes them all", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    const { disk, recoveryDisk } = await reprotected(engine, dir);
    await randomWrites(recoveryDisk, 3, 1000); // the machine at the recovery site changed a few blocks
    clock.advance(30_000);
    const delta = await engine.failback("vm", { location: "original" });
    assert.equal(delta.state, "Succeeded", JSON.stringify(delta.error));
    const d = delta.result as { bytesTransferred: number; diskBytes: number };
    // Each of the 3 writes (≤ 1000 bytes) touches one block, or two when it straddles a boundary.
    assert.ok(d.bytesTransferred > 0 && d.bytesTransferred <= 6 * 65536, `delta wrote ${d.bytesTransferred} bytes`);
    assert.ok((await fs.readFile(disk)).equals(await fs.readFile(recoveryDisk)));

    // The same again with a full download: every block is written.
    const dir2 = tempDir();
    const second = await recoveryVault(dir2);
    const b = await reprotected(second.engine, dir2);
    await randomWrites(b.recoveryDisk, 3, 1000);
    const full = await second.engine.failback("vm", { location: "original", fullDownload: true });
    assert.equal(full.state, "Succeeded", JSON.stringify(full.error));
    assert.deepEqual(
      full.tasks.map((t) => t.name),
      ["Prerequisites check", "Shut down recovery machine", "Final synchronization", "Write disks at primary", "Start at primary"],
    );
    const f = full.result as { bytesTransferred: number; diskBytes: number };
    assert.equal(f.bytesTransferred, f.diskBytes);
    assert.ok((await fs.readFile(b.disk)).equals(await fs.readFile(b.recoveryDisk)));
    console.log(`      failback of a 4 MiB disk with 3 small writes: delta ${d.bytesTransferred} bytes, full download ${f.bytesTransferred} bytes`);
  });

  it("failback to an alternate location creates the machine's disks there, and reprotect continues from them", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    const { disk, recoveryDisk } = await reprotected(engine, dir);
    await randomWrites(recoveryDisk, 5);
    const alternate = path.join(dir, "rebuilt-host");
    const job = await engine.failback("vm", { location: "alternate", alternateDir: alternate });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    const out = job.result as { disks: Array<{ path: string }>; bytesTransferred: number };
    assert.deepEqual(
      out.disks.map((x) => x.path),
      [path.join(alternate, "os")],
    );
    assert.ok((await fs.readFile(path.join(alternate, "os"))).equals(await fs.readFile(recoveryDisk)));
    assert.notDeepEqual(await fs.readFile(disk), await fs.readFile(recoveryDisk), "the original disk was left alone");
    assert.equal((await engine.commit("vm")).state, "Succeeded");
    assert.equal((await engine.reprotect("vm")).state, "Succeeded");
    const status = await engine.item("vm");
    assert.deepEqual([status.state, status.activeSite, status.disks[0].path], ["Protected", "primary", path.join(alternate, "os")]);
    assert.equal(existsSync(path.join(dir, "dr", "vm")), false, "the recovery machine is gone after the failback's commit");
  });

  it("migration: the machine stays at the recovery site, unprotected; failback and reprotect are refused", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    await makeDisk(path.join(dir, "m.img"), 4);
    await engine.protect({ name: "m", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "m.img"), os: true }], recovery: { site: "dr" } });
    await assert.rejects(engine.completeMigration("m"), /must be failed over/);
    assert.equal((await engine.failover("m", { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
    const job = await engine.completeMigration("m");
    assert.equal(job.state, "Succeeded");
    const status = await engine.item("m");
    assert.deepEqual([status.state, status.failoverState, status.points], ["Migrated", "Migrated", 0]);
    assert.ok(existsSync(path.join(dir, "dr", "m", "os")), "the migrated machine stays");
    await assert.rejects(engine.failback("m"), /was migrated; failback is refused/);
    await assert.rejects(engine.reprotect("m"), /migrated/);
    await assert.rejects(engine.replicateNow("m"), /migrated/);
    await assert.rejects(engine.failover("m", { type: "unplanned" }), /migrated/);
  });

  it("failback and reprotect out of order get clear errors", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    await makeDisk(path.join(dir, "x.img"), 4);
    await engine.protect({ name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "x.img"), os: true }], recovery: { site: "dr" } });
    await assert.rejects(engine.failback("x"), /not replicating back to the primary \(not failed over\)/);
    await assert.rejects(engine.reprotect("x"), /no committed failover/);
    await engine.failover("x", { type: "unplanned", point: "latest-processed" });
    await assert.rejects(engine.reprotect("x"), /commit the failover of 'x' before reprotecting/);
    await assert.rejects(engine.failback("x"), /fail it over, commit and reprotect first/);
    await assert.rejects(engine.failback("x", { location: "alternate" }), /alternateDir: an alternate-location failback needs the directory/);
  });
});
