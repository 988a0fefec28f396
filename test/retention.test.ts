import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HOUR } from "../engine";
import { makeDisk, newVault, randomWrites, snapshotTree, tempDir } from "./helpers";

async function packBytes(vaultDir: string): Promise<number> {
  const files = await snapshotTree(path.join(vaultDir, "store"));
  return files.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

describe("retention and garbage collection", () => {
  it("deletes points past the window, keeps the latest, and gives the space back", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir, { policy: { retentionHours: 2 } });
    const disk = path.join(dir, "os.img");
    await makeDisk(disk, 64, 1000);
    await engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
    // Rewrite most of the disk every hour: each point holds mostly its own blocks.
    for (let i = 0; i < 5; i++) {
      clock.advance(HOUR);
      await randomWrites(disk, 60, 65536);
      assert.equal((await engine.replicateNow("vm")).state, "Succeeded");
    }
    assert.equal((await engine.points("vm")).length, 6);
    const before = await packBytes(engine.vault.dir);

    const job = await engine.applyRetention();
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    const result = job.result as { pointsDeleted: number; blocksDeleted: number; bytesFreed: number };
    const points = await engine.points("vm");
    // Window of 2 h at t = 5 h: points captured at 3 h, 4 h and 5 h remain (3 h is exactly at the edge).
    assert.equal(result.pointsDeleted, 3);
    assert.equal(points.length, 3);
    assert.ok(result.blocksDeleted > 0);
    const after = await packBytes(engine.vault.dir);
    assert.ok(after < before * 0.75, `store shrank from ${before} to ${after} bytes`);
    assert.equal(result.bytesFreed, before - after);

    // Every remaining point still materializes in full, byte-exact for the latest.
    for (const p of points) assert.equal((await engine.materialize("vm", p.id, path.join(dir, "r", p.id))).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(dir, "r", points[2].id, "os"))).equals(await fs.readFile(disk)));

    // Far past the window, the latest point still stays.
    clock.advance(100 * HOUR);
    const report = await engine.tick();
    assert.equal(report.replicated.length, 1, "the scheduler replicates the due item");
    clock.advance(100 * HOUR);
    await engine.applyRetention();
    const survivors = await engine.points("vm");
    assert.equal(survivors.length, 1);
    assert.equal((await engine.materialize("vm", "latest", path.join(dir, "last"))).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(dir, "last", "os"))).equals(await fs.readFile(disk)));
  });
});
