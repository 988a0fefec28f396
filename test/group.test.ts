import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { makeDisk, newVault, randomWrites, tempDir } from "./helpers";

describe("replication groups (multi-VM consistency)", () => {
  it("captures the machines of a group in one window and marks their points with the group", async () => {
    const dir = tempDir();
    const { engine, clock } = await newVault(dir);
    const marks = path.join(dir, "hooks.log");
    for (const name of ["web", "db"]) {
      await makeDisk(path.join(dir, `${name}.img`), 8);
      const job = await engine.protect({
        name,
        site: "hq",
        policy: "gold",
        group: "shop",
        disks: [{ name: "os", path: path.join(dir, `${name}.img`), os: true }],
        hooks: { pause: `echo pause $LIFEBOAT_ITEM >> ${marks}`, resume: `echo resume $LIFEBOAT_ITEM >> ${marks}` },
      });
      assert.equal(job.state, "Succeeded");
    }
    await fs.rm(marks, { force: true });
    for (let i = 0; i < 3; i++) {
      await randomWrites(path.join(dir, "web.img"), 3);
      await randomWrites(path.join(dir, "db.img"), 3);
      clock.advance(30_000);
      const report = await engine.tick();
      assert.deepEqual(report.replicated.sort(), ["db", "web"]);
    }
    // Both machines were held still together: both paused before either resumed, every cycle.
    const log = (await fs.readFile(marks, "utf8")).trim().split("\n");
    assert.deepEqual(log.slice(0, 4), ["pause web", "pause db", "resume db", "resume web"]);
    assert.equal(log.length, 12);

    const web = await engine.points("web");
    const db = await engine.points("db");
    const grouped = (list: typeof web) => list.filter((p) => p.windowId);
    assert.equal(grouped(web).length, 3);
    for (const [i, point] of grouped(web).entries()) {
      const peer = grouped(db)[i];
      assert.equal(point.windowId, peer.windowId, "one window for the group");
      assert.equal(point.capturedAt, peer.capturedAt, "one capture instant");
      assert.equal(point.group, "shop");
    }
    // Replicate-now on one machine captures its whole group.
    clock.advance(1000);
    const job = await engine.replicateNow("db");
    const points = (job.result as { points: Array<{ item: string; windowId: string }> }).points;
    assert.deepEqual(points.map((p) => p.item).sort(), ["db", "web"]);
    assert.equal(points[0].windowId, points[1].windowId);
  });
});
