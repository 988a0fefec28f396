import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { type newVault, overwriteBlocks, tempDir, vaultWithVm } from "./helpers";

describe("resync", () => {
  it("repairs exactly the replica blocks that were damaged", async () => {
    const dir = tempDir();
    const { engine, disk } = await vaultWithVm(dir, 48);

    // Damage three stored blocks in their pack files (flip bytes in the middle of each).
    const catalog = new Database(path.join(engine.vault.dir, "catalog.sqlite"), { readonly: true });
    const victims = catalog.prepare("select id, pack, offset, length from blocks order by id limit 3").all() as Array<{
      id: string;
      pack: string;
      offset: number;
      length: number;
    }>;
    catalog.close();
    for (const v of victims) {
      const handle = await fs.open(path.join(engine.vault.dir, "store", v.pack), "r+");
      await handle.write(Buffer.from("damage!"), 0, 7, v.offset + Math.floor(v.length / 2));
      await handle.close();
    }
    const broken = await engine.materialize("vm", "latest", path.join(dir, "broken"));
    assert.equal(broken.state, "Failed");
    assert.equal(broken.error?.code, "BlockDamaged");

    const job = await engine.resync("vm");
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    const result = job.result as { repairedBlocks: string[]; differingBlocks: number };
    assert.deepEqual([...result.repairedBlocks].sort(), victims.map((v) => v.id).sort());
    assert.equal(result.differingBlocks, 0, "the source did not change");
    const fixed = await engine.materialize("vm", "latest", path.join(dir, "fixed"));
    assert.equal(fixed.state, "Succeeded");
    assert.ok((await fs.readFile(path.join(dir, "fixed", "os"))).equals(await fs.readFile(disk)));
    assert.equal((await engine.item("vm")).state, "Protected");
  });

  it("is required when pending change data reaches half the disk while replication fails, and catches up", async () => {
    const dir = tempDir();
    const { engine, clock, faulty, disk } = await vaultWithVm(dir, 20);

    faulty.failWith = "ENOSPC";
    await overwriteBlocks(disk, 0, 8); // 8 of 20 blocks: 40% pending
    clock.advance(30_000);
    let report = await engine.tick();
    assert.equal(report.failed[0]?.code, "StoreFull");
    assert.equal((await engine.item("vm")).state, "Protected", "40% pending: delta replication can still catch up");

    await overwriteBlocks(disk, 8, 20); // now every block differs
    clock.advance(60_000);
    report = await engine.tick();
    assert.equal(report.failed[0]?.code, "StoreFull");
    const status = await engine.item("vm");
    assert.equal(status.state, "ResyncRequired");
    assert.equal(status.resyncRequired, "PendingChangeData");
    assert.ok(status.healthErrors.some((e) => e.code === "ResyncRequired"));

    faulty.failWith = null;
    const job = await engine.resync("vm");
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.equal((job.result as { differingBlocks: number }).differingBlocks, 20);
    assert.ok((await fs.readFile(await materialized(engine, dir))).equals(await fs.readFile(disk)));
    assert.equal((await engine.item("vm")).health, "Normal");
  });

  it("a broken chain makes the item Critical until a resync rebuilds it", async () => {
    const dir = tempDir();
    const { engine, clock } = await vaultWithVm(dir, 8);
    const catalog = new Database(path.join(engine.vault.dir, "catalog.sqlite"));
    catalog.prepare("update disks set state_xxh = x'00'").run();
    catalog.close();
    clock.advance(30_000);
    const sync = await engine.replicateNow("vm");
    assert.equal(sync.state, "Failed");
    const status = await engine.item("vm");
    assert.equal(status.health, "Critical");
    assert.equal(status.resyncRequired, "ChainBroken");
    assert.equal(status.nextAttemptAt, null, "non-recoverable: no automatic retry");
    assert.equal((await engine.resync("vm")).state, "Succeeded");
    const healed = await engine.item("vm");
    assert.equal(healed.health, "Normal");
    assert.equal(healed.state, "Protected");
  });
});

async function materialized(engine: Awaited<ReturnType<typeof newVault>>["engine"], dir: string): Promise<string> {
  const out = path.join(dir, `m-${Date.now()}`);
  const job = await engine.materialize("vm", "latest", out);
  assert.equal(job.state, "Succeeded");
  return path.join(out, "os");
}
