import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { newVault, tempDir } from "./helpers";
import { checkDatabase, sleep, Workload, type Checked } from "./fixtures/sqlite";
import type { JobView, PointView } from "../engine";

const CYCLES = 8;
/** How long the workload writes between cycles (varied so the pause lands at different moments). */
const WRITE_MS = [150, 300] as const;

describe("a live SQLite database (WAL mode) as the workload", function () {
  this.timeout(120_000);
  let workload: Workload | undefined;

  after(async () => {
    await workload?.stop();
  });

  it("every crash-consistent point opens as an intact database holding every row committed before its pause", async () => {
    const dir = tempDir("lifeboat-sqlite-");
    const source = path.join(dir, "source");
    await fs.mkdir(source);
    const dbFile = path.join(source, "app.db");
    const walFile = `${dbFile}-wal`;

    workload = new Workload(dbFile);
    await workload.until("ready", () => workload!.ready);
    await workload.until("a first commit", () => workload!.committed > 0);
    assert.ok(existsSync(dbFile) && existsSync(walFile), "the database and its WAL should both exist");

    const { engine, clock } = await newVault(dir);
    const name = "sqlite-vm";
    const pid = workload.pid;

    /** Point id -> committed count printed before the capture that made it. */
    const committedBefore = new Map<string, number>();

    let before = workload.committed;
    const protect = await engine.protect({
      name,
      site: "hq",
      policy: "gold",
      disks: [
        { name: "app.db", path: dbFile, os: true },
        { name: "app.db-wal", path: walFile },
      ],
      hooks: { pause: `kill -STOP ${pid}`, resume: `kill -CONT ${pid}` },
    });
    assert.equal(protect.state, "Succeeded", `protect failed: ${JSON.stringify(protect.error)}`);
    const firstPoint = (protect.result as { point: string }).point;
    assert.ok(firstPoint, "protect should report its first point");
    committedBefore.set(firstPoint, before);
    workload.check();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Let it write; the committed count grows meanwhile (the workload would have died otherwise).
      const floor = workload.committed;
      await sleep(WRITE_MS[0] + Math.floor(Math.random() * (WRITE_MS[1] - WRITE_MS[0])));
      await workload.until(`commits after cycle ${cycle}`, () => workload!.committed > floor);

      clock.advance(30_000);
      before = workload.committed;
      const job: JobView = await engine.replicateNow(name);
      assert.equal(job.state, "Succeeded", `cycle ${cycle} failed: ${JSON.stringify(job.error)}`);
      const made = (job.result as { points: PointView[] }).points;
      assert.equal(made.length, 1, `cycle ${cycle} should make one point`);
      committedBefore.set(made[0].id, before);
      workload.check();
    }

    const points = await engine.points(name);
    assert.deepEqual(
      points.map((p) => p.id),
      [...committedBefore.keys()],
      "the vault should list exactly the points the cycles made, oldest first",
    );
    assert.equal(points.length, CYCLES + 1);

    const checked: Checked[] = [];
    for (const [i, point] of points.entries()) {
      const label = `point ${i} (${point.id})`;
      assert.deepEqual(
        point.disks.map((d) => d.name),
        ["app.db", "app.db-wal"],
        `${label}: disks`,
      );
      const outDir = path.join(dir, "restore", String(i));
      const job = await engine.materialize(name, point.id, outDir);
      assert.equal(job.state, "Succeeded", `${label}: materialize failed: ${JSON.stringify(job.error)}`);
      for (const disk of point.disks) {
        assert.equal((await fs.stat(path.join(outDir, disk.name))).size, disk.size, `${label}: ${disk.name} has the size recorded in the point`);
      }

      const rows = checkDatabase(path.join(outDir, "app.db"), label);
      const floor = committedBefore.get(point.id)!;
      assert.ok(rows >= floor, `${label}: holds ${rows} rows, but ${floor} were committed before its pause`);
      if (checked.length) {
        const previous = checked[checked.length - 1].rows;
        assert.ok(rows >= previous, `${label}: holds ${rows} rows, fewer than the point before (${previous})`);
      }
      checked.push({ rows, dbSize: point.disks.find((d) => d.name === "app.db")!.size });
      await fs.rm(outDir, { recursive: true, force: true }); // a throwaway copy; keep the disk footprint small
    }

    const first = checked[0];
    const last = checked[checked.length - 1];
    assert.ok(last.rows > first.rows, `the rows should grow over the run (first point ${first.rows}, last ${last.rows})`);
    // Checkpoints really happened while we replicated: pages moved from the WAL into the main file.
    assert.ok(last.dbSize > first.dbSize, `app.db should grow through checkpoints (first point ${first.dbSize} bytes, last ${last.dbSize})`);

    // The protect job's bytesStored covers the initial scan and the first point; the cycles add the rest.
    const initial = (protect.result as { bytesStored: number }).bytesStored;
    const byCycles = points.slice(1).reduce((total, p) => total + p.bytesStored, 0);
    const store = (await engine.status()).vault.store;
    console.log(
      `      sqlite workload: ${points.length} points checked, ${last.rows} rows in the last point (app.db ${last.dbSize} bytes); ` +
        `${initial + byCycles} bytes stored (protect ${initial}, cycles ${byCycles}; the store holds ${store.storedBytes} in ${store.blocks} blocks)`,
    );
  });
});
