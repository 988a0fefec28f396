import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import { MINUTE, retryDelayMs } from "../engine";
import { tempDir, vaultWithVm } from "./helpers";

describe("retry", () => {
  it("retries recoverable errors after 1, 2, 4, 8, 10 minutes, then every 30 minutes", async () => {
    const dir = tempDir();
    const { engine, clock, faulty, disk } = await vaultWithVm(dir, 4);
    await fs.appendFile(disk, Buffer.alloc(65536, 7)); // something to ship
    faulty.failWith = "EIO";
    clock.advance(30_000);

    const gaps: number[] = [];
    let last = clock.now();
    assert.equal((await engine.tick()).failed.length, 1);
    // Walk the clock a minute at a time and note when the scheduler tries again.
    while (gaps.length < 7) {
      clock.advance(MINUTE);
      const report = await engine.tick();
      if (report.failed.length) {
        gaps.push((clock.now() - last) / MINUTE);
        last = clock.now();
      }
      const status = await engine.item("vm");
      assert.equal(status.health, "Warning", "a recoverable error is a warning while it is retried");
      assert.equal(status.healthErrors[0].code, "IoError");
    }
    assert.deepEqual(gaps, [1, 2, 4, 8, 10, 30, 30]);
    assert.equal((await engine.item("vm")).failures, 8);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 9].map((n) => retryDelayMs(n) / MINUTE),
      [1, 2, 4, 8, 10, 30, 30],
    );

    // Once the store works again the next attempt succeeds and clears the streak.
    faulty.failWith = null;
    clock.advance(30 * MINUTE);
    assert.deepEqual((await engine.tick()).replicated, ["vm"]);
    const healed = await engine.item("vm");
    assert.equal(healed.health, "Normal");
    assert.equal(healed.failures, 0);
  });

  it("stops on non-recoverable errors (disk gone) with health Critical until resolved", async () => {
    const dir = tempDir();
    const { engine, clock, disk } = await vaultWithVm(dir, 4);
    const saved = await fs.readFile(disk);
    await fs.rm(disk);
    clock.advance(30_000);
    const report = await engine.tick();
    assert.equal(report.failed[0].code, "DiskNotFound");
    const status = await engine.item("vm");
    assert.equal(status.health, "Critical");
    assert.equal(status.nextAttemptAt, null);
    assert.equal(status.healthErrors[0].recoverable, false);
    // Hours later nothing has been retried.
    for (let i = 0; i < 5; i++) {
      clock.advance(60 * MINUTE);
      const later = await engine.tick();
      assert.deepEqual([later.failed.length, later.replicated.length], [0, 0]);
    }
    assert.equal((await engine.item("vm")).failures, 1);
    // An operator restores the disk and asks for a cycle: that resolves it.
    await fs.writeFile(disk, saved);
    assert.equal((await engine.replicateNow("vm")).state, "Succeeded");
    assert.equal((await engine.item("vm")).health, "Normal");
    clock.advance(30_000);
    assert.deepEqual((await engine.tick()).replicated, ["vm"], "the scheduler takes the item up again");
  });

  it("turns health Warning when the RPO exceeds the policy's threshold", async () => {
    const dir = tempDir();
    const { engine, clock } = await vaultWithVm(dir, 2, { policy: { rpoThresholdMinutes: 15 } });
    clock.advance(14 * MINUTE);
    assert.deepEqual([(await engine.item("vm")).health, (await engine.item("vm")).rpoSeconds], ["Normal", 14 * 60]);
    clock.advance(2 * MINUTE);
    const late = await engine.item("vm");
    assert.equal(late.health, "Warning");
    assert.equal(late.healthErrors[0].code, "RpoThresholdExceeded");
  });
});
