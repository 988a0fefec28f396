import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { makeDisk, newVault, randomWrites, tempDir } from "./helpers";

describe("replication: recovery points are byte-exact", () => {
  it("materializes every point to exactly the bytes the source had at capture, across random writes", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const os = path.join(dir, "os.img");
    const data = path.join(dir, "data.img");
    await makeDisk(os, 40);
    await makeDisk(data, 24, 3);
    const job = await engine.protect({
      name: "vm1",
      site: "hq",
      host: "host1",
      policy: "gold",
      disks: [
        { name: "os", path: os, os: true },
        { name: "data", path: data },
      ],
    });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));

    // A copy of both disks at every capture, keyed by point id.
    const copies = new Map<string, { os: Buffer; data: Buffer }>();
    const first = (await engine.points("vm1"))[0];
    copies.set(first.id, { os: await fs.readFile(os), data: await fs.readFile(data) });
    for (let cycle = 0; cycle < 6; cycle++) {
      await randomWrites(os, 1 + cycle * 3);
      await randomWrites(data, 2);
      if (cycle === 3) await fs.appendFile(data, randomBytes(100_000)); // the disk grows, with a short last block
      if (cycle === 5) await fs.truncate(os, 30 * 65536 + 123); // and shrinks
      clock.advance(30_000);
      const sync = await engine.replicateNow("vm1");
      assert.equal(sync.state, "Succeeded", JSON.stringify(sync.error));
      const [point] = (sync.result as { points: Array<{ id: string; blocksChanged: number }> }).points;
      assert.ok(point.blocksChanged > 0, "random writes change blocks");
      copies.set(point.id, { os: await fs.readFile(os), data: await fs.readFile(data) });
    }

    const points = await engine.points("vm1");
    assert.equal(points.length, 7);
    for (const point of points) {
      const out = path.join(dir, "restore", point.id);
      const m = await engine.materialize("vm1", point.id, out);
      assert.equal(m.state, "Succeeded", JSON.stringify(m.error));
      const expected = copies.get(point.id)!;
      assert.ok((await fs.readFile(path.join(out, "os"))).equals(expected.os), `os disk at ${point.id}`);
      assert.ok((await fs.readFile(path.join(out, "data"))).equals(expected.data), `data disk at ${point.id}`);
    }
  });

  it("ships only changed blocks, never stores zero blocks, and stores identical blocks once across machines", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const block = randomBytes(65536);
    const a = path.join(dir, "a.img");
    const b = path.join(dir, "b.img");
    // a: the same block 4 times and 12 zero blocks; b: that block again plus one of its own.
    await fs.writeFile(a, Buffer.concat([block, block, Buffer.alloc(12 * 65536), block, block]));
    await fs.writeFile(b, Buffer.concat([block, randomBytes(65536)]));
    await engine.protect({ name: "a", site: "hq", policy: "gold", disks: [{ name: "os", path: a, os: true }] });
    await engine.protect({ name: "b", site: "hq", policy: "gold", disks: [{ name: "os", path: b, os: true }] });
    const stats = (await engine.status()).vault.store;
    assert.equal(stats.blocks, 2, "one shared block and b's own block; zero blocks are not stored");

    clock.advance(30_000);
    const handle = await fs.open(a, "r+");
    await handle.write(Buffer.from("changed"), 0, 7, 3 * 65536 + 10); // one zero block gains data
    await handle.close();
    const sync = await engine.replicateNow("a");
    const [point] = (sync.result as { points: Array<{ blocksChanged: number; bytesRead: number }> }).points;
    assert.equal(point.blocksChanged, 1);
    assert.equal(point.bytesRead, 16 * 65536);
    assert.equal((await engine.status()).vault.store.blocks, 3);
    const sparse = await engine.materialize("a", "latest", path.join(dir, "out"));
    assert.equal(sparse.state, "Succeeded");
    const restored = path.join(dir, "out", "os");
    assert.ok((await fs.readFile(restored)).equals(await fs.readFile(a)));
    const { blocks: allocated } = await fs.stat(restored);
    assert.ok(allocated * 512 < 16 * 65536, `materialized disk is sparse (${allocated * 512} bytes allocated)`);
  });

  it("excluded disks are not replicated and the OS disk is", async () => {
    const dir = tempDir();
    const { engine } = await newVault(dir);
    await makeDisk(path.join(dir, "os.img"), 4);
    await makeDisk(path.join(dir, "scratch.img"), 4);
    const job = await engine.protect({
      name: "vm",
      site: "hq",
      policy: "gold",
      disks: [
        { name: "os", path: path.join(dir, "os.img"), os: true },
        { name: "scratch", path: path.join(dir, "scratch.img") },
      ],
      excludedDisks: ["scratch"],
    });
    assert.equal(job.state, "Succeeded");
    const [point] = await engine.points("vm");
    assert.deepEqual(
      point.disks.map((d) => d.name),
      ["os"],
    );
    const status = await engine.item("vm");
    assert.deepEqual(
      status.disks.map((d) => [d.name, d.excluded]),
      [
        ["os", false],
        ["scratch", true],
      ],
    );
  });
});
