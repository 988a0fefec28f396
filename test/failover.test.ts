import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { recoveryVault, tempDir } from "./helpers";
import { checkDatabase, sleep, Workload, WORKLOAD } from "./fixtures/sqlite";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

/** A live SQLite machine "db" on network corp, protected with the recovery site dr as target. */
async function protectDatabase(engine: Engine, dir: string, compute: Record<string, unknown> = { driver: "none" }) {
  const source = path.join(dir, "source");
  await fs.mkdir(source, { recursive: true });
  const workload = new Workload(path.join(source, "app.db"));
  after(() => workload.stop());
  await workload.until("a first commit", () => workload.committed > 0);
  const job = await engine.protect({
    name: "db",
    site: "hq",
    policy: "gold",
    disks: [
      { name: "app.db", path: path.join(source, "app.db"), os: true },
      { name: "app.db-wal", path: path.join(source, "app.db-wal") },
    ],
    nics: [{ network: "corp" }],
    hooks: { pause: `kill -STOP ${workload.pid}`, resume: `kill -CONT ${workload.pid}`, shutdown: `kill -KILL ${workload.pid}` },
    recovery: { site: "dr", targetSize: "Standard_D2s_v3", compute },
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return { workload, source };
}

/** Rows in a (possibly live) database file. */
function rowsIn(file: string): number {
  const db = new Database(file);
  try {
    return (db.prepare("select count(*) as n from rows").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("failover", () => {
  it("drill, cleanup, planned failover with no committed row lost, commit", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    // At the recovery site the database machine is "started" by running the workload on its recovered disks.
    const compute = { driver: "process", start: `exec node ${WORKLOAD} "$LIFEBOAT_DIR/app.db"`, healthCheck: "grep -q ready start.log", healthTimeoutSeconds: 30 };
    const { workload, source } = await protectDatabase(engine, dir, compute);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      clock.advance(30_000);
      assert.equal((await engine.replicateNow("db")).state, "Succeeded");
    }

    // Drill: a running copy at dr/db-test on the isolated test network; replication goes on meanwhile.
    const drill = await engine.drill("db");
    assert.equal(drill.state, "Succeeded", JSON.stringify(drill.error));
    const report = drill.result as { machine: { dir: string; state: string; ip: string; network: string }; point: { id: string } };
    assert.equal(report.machine.dir, path.join(dir, "dr", "db-test"));
    assert.deepEqual([report.machine.state, report.machine.ip, report.machine.network], ["Running", "10.1.0.2", "dr-net"]);
    const description = JSON.parse(await fs.readFile(path.join(report.machine.dir, "machine.json"), "utf8"));
    assert.deepEqual([description.size, description.cpus, description.generation, description.sourceGeneration, description.nics.length], ["Standard_D2s_v3", 2, 1, 2, 1]);
    await sleep(200); // the drill copy is running its own writes
    assert.ok(checkDatabase(path.join(report.machine.dir, "app.db"), "drill copy") > 0);
    clock.advance(30_000);
    assert.equal((await engine.replicateNow("db")).state, "Succeeded", "replication keeps running during the drill");
    assert.equal((await engine.item("db")).activeSite, "primary");
    await assert.rejects(engine.drill("db"), /already has a drill/);

    const cleanup = await engine.drillCleanup("db", "app came up, 2 s to healthy");
    assert.equal(cleanup.state, "Succeeded", JSON.stringify(cleanup.error));
    assert.equal(existsSync(report.machine.dir), false, "the drill left nothing behind");
    const afterDrill = await engine.item("db");
    assert.equal(afterDrill.lastDrillAt, new Date(clock.now()).toISOString());
    assert.equal(afterDrill.drillRecommended, false);

    // Planned failover: the source is shut down (power off), the rest shipped, nothing lost.
    await sleep(200);
    const planned = await engine.failover("db", { type: "planned" });
    assert.equal(planned.state, "Succeeded", JSON.stringify(planned.error));
    assert.deepEqual(planned.tasks.map((t) => t.name), ["Prerequisites check", "Shut down source", "Synchronize", "Prepare data", "Start"]);
    await workload.gone();
    const outcome = planned.result as { point: { id: string }; dataLossWindowSeconds: number; machine: { dir: string; state: string; ip: string } };
    assert.equal(outcome.dataLossWindowSeconds, 0);
    assert.deepEqual([outcome.machine.dir, outcome.machine.state, outcome.machine.ip], [path.join(dir, "dr", "db"), "Running", "10.1.0.2"]);
    // The point failed over to holds every row the source had when it was shut down.
    const restored = path.join(dir, "check");
    assert.equal((await engine.materialize("db", outcome.point.id, restored)).state, "Succeeded");
    const atShutdown = rowsIn(path.join(source, "app.db"));
    assert.ok(atShutdown >= workload.committed);
    assert.equal(checkDatabase(path.join(restored, "app.db"), "failover point"), atShutdown, "no committed row lost");
    // And the recovered machine runs: its workload goes on from there.
    await sleep(300);
    assert.ok(rowsIn(path.join(outcome.machine.dir, "app.db")) > atShutdown);
    const status = await engine.item("db");
    assert.deepEqual([status.activeSite, status.failoverState, status.recoveryMachine?.state], ["recovery", "FailedOver", "Running"]);
    clock.advance(30_000);
    assert.deepEqual((await engine.tick()).replicated, [], "a failed-over machine does not replicate from the primary");

    const commit = await engine.commit("db");
    assert.equal(commit.state, "Succeeded");
    assert.ok((commit.result as { pointsDeleted: number }).pointsDeleted >= 5);
    assert.deepEqual(await engine.points("db"), []);
    assert.equal((await engine.item("db")).failoverState, "Committed");
    await assert.rejects(engine.commit("db"), /already committed/);
    await assert.rejects(engine.changeRecoveryPoint("db", "latest-processed"), /is committed/);
  });

  it("unplanned failover after the primary dies loses at most the rows committed after the chosen point", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    const { workload, source } = await protectDatabase(engine, dir);
    let committedAtLastCapture = 0;
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      clock.advance(30_000);
      committedAtLastCapture = workload.committed;
      assert.equal((await engine.replicateNow("db")).state, "Succeeded");
    }
    await sleep(200); // rows committed after the last point: these may be lost
    workload.child.kill("SIGKILL");
    await workload.gone();
    clock.advance(45_000);

    // "latest" first tries to capture what the source still has: the pause hook fails on a dead machine,
    // so the failover goes on from the latest processed point and says so.
    const job = await engine.failover("db", { type: "unplanned", point: "latest", shutdownSource: true });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    const outcome = job.result as { point: { id: string }; notes: string[]; sourceShutdown: string; dataLossWindowSeconds: number; machine: { dir: string; state: string } };
    assert.equal(outcome.sourceShutdown, "failed", "kill -KILL of a dead process fails");
    assert.match(outcome.notes.join(" "), /using the latest processed point/);
    assert.equal(outcome.dataLossWindowSeconds, 45);
    assert.equal(outcome.machine.state, "Materialized");
    const points = await engine.points("db");
    assert.equal(outcome.point.id, points[points.length - 1].id);
    const recovered = checkDatabase(path.join(outcome.machine.dir, "app.db"), "recovered");
    const atCrash = rowsIn(path.join(source, "app.db"));
    assert.ok(recovered >= committedAtLastCapture, `${recovered} rows recovered, ${committedAtLastCapture} committed before the point`);
    assert.ok(recovered <= atCrash, "nothing beyond what the source had");
    console.log(`      unplanned failover: ${recovered} of ${atCrash} rows recovered (${atCrash - recovered} committed after the point)`);

    // Change the recovery point before commit: an older point comes up instead.
    const older = points[1];
    const change = await engine.changeRecoveryPoint("db", older.id);
    assert.equal(change.state, "Succeeded", JSON.stringify(change.error));
    const m = JSON.parse(await fs.readFile(path.join(outcome.machine.dir, "machine.json"), "utf8"));
    assert.equal(m.point.id, older.id);
    assert.ok(checkDatabase(path.join(outcome.machine.dir, "app.db"), "older point") <= recovered);
    assert.equal((await engine.item("db")).failoverPoint, older.id);
  });
});
