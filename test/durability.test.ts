import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Engine } from "../engine";
import { lifeboat, spawnLifeboat } from "./cli";
import { makeDisk, overwriteBlocks, snapshotTree, tempDir } from "./helpers";

const packFiles = async (vault: string) =>
  (await snapshotTree(path.join(vault, "store"))).filter((f) => f.includes(".pack ")).map((f) => path.join(vault, "store", f.slice(0, f.lastIndexOf(" "))));
const packCount = async (vault: string) => (await packFiles(vault)).length;

describe("durability: a crash mid-cycle leaves the vault consistent", () => {
  it("a replication process killed while writing packs lists no partial point, and the next cycle and GC recover", async () => {
    const dir = tempDir();
    const vault = path.join(dir, "vault");
    const disk = path.join(dir, "os.img");
    await makeDisk(disk, 2048, 1000); // 128 MiB
    const run = (...args: string[]) => lifeboat(["--vault", vault, ...args]);
    assert.equal((await run("vault", "init")).code, 0);
    await run("site", "add", "hq", "--kind", "physical");
    await run("policy", "add", "gold");
    assert.equal((await run("protect", "vm", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`)).code, 0);
    const before = await fs.readFile(disk);

    // Change every block, start a cycle, and kill it once it has written at least one new pack.
    await overwriteBlocks(disk, 0, 2048);
    const packsBefore = await packCount(vault);
    const oldPacks = new Set(await packFiles(vault));
    const sync = spawnLifeboat(["--vault", vault, "sync", "vm"]);
    const closed = new Promise((r) => sync.once("close", r));
    const deadline = Date.now() + 60_000;
    while ((await packCount(vault)) === packsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    sync.kill("SIGKILL");
    await closed;
    assert.ok((await packCount(vault)) > packsBefore, "the cycle was killed after writing data");

    const engine = await Engine.open(vault);
    try {
      const points = await engine.points("vm");
      assert.equal(points.length, 1, "the interrupted cycle recorded no point");
      // The surviving point is intact, and the dead process's lock does not block the vault.
      const m = await engine.materialize("vm", points[0].id, path.join(dir, "old"));
      assert.equal(m.state, "Succeeded", JSON.stringify(m.error));
      assert.ok((await fs.readFile(path.join(dir, "old", "os"))).equals(before));
      const again = await engine.replicateNow("vm");
      assert.equal(again.state, "Succeeded", JSON.stringify(again.error));
      await engine.materialize("vm", "latest", path.join(dir, "new"));
      assert.ok((await fs.readFile(path.join(dir, "new", "os"))).equals(await fs.readFile(disk)));
      // Garbage collection keeps unindexed packs for an hour (an agent may still be writing its window) and
      // drops what the killed cycle left behind once they are older: packs then hold exactly the indexed blocks.
      const orphans = (await packFiles(vault)).filter((f) => !oldPacks.has(f));
      const hoursAgo = new Date(Date.now() - 2 * 3600_000);
      for (const f of orphans) await fs.utimes(f, hoursAgo, hoursAgo);
      const gc = await engine.applyRetention();
      assert.equal(gc.state, "Succeeded");
      const stats = (await engine.status()).vault.store;
      assert.equal(stats.packBytes, stats.storedBytes);
    } finally {
      await engine.close();
    }
  });
});
