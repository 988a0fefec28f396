import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { recoveryVault, tempDir } from "./helpers";
import { waitFor } from "./wait";
import { checkDatabase, checkInPlace, sleep, Workload, WORKLOAD } from "./fixtures/sqlite";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

/** A live SQLite machine "db" on network corp, protected with the recovery site dr as target. */
async function protectDatabase(engine: Engine, dir: string, compute: Record<string, unknown> = { driver: "none" }, options: { offMeansPaused?: boolean } = {}) {
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
    // offMeansPaused: once the source is shut down (after a failback to it, say), holding it still is a no-op.
    hooks: options.offMeansPaused
      ? {
          pause: `kill -STOP ${workload.pid} || ! kill -0 ${workload.pid}`,
          resume: `kill -CONT ${workload.pid} || ! kill -0 ${workload.pid}`,
          shutdown: `kill -KILL ${workload.pid}`,
        }
      : { pause: `kill -STOP ${workload.pid}`, resume: `kill -CONT ${workload.pid}`, shutdown: `kill -KILL ${workload.pid}` },
    recovery: { site: "dr", targetSize: "Standard_D2s_v3", compute },
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return { workload, source };
}

describe("failover", () => {
  it("full lifecycle: drill, cleanup, planned failover with no row lost, commit, reprotect, failback by delta, reprotect again", async () => {
    const dir = tempDir();
    const { engine, clock } = await recoveryVault(dir);
    // At the recovery site the database machine is "started" by running the workload on its recovered disks.
    const compute = {
      driver: "process",
      start: `exec node ${WORKLOAD} "$LIFEBOAT_DIR/app.db" 300`,
      healthCheck: "grep -q ready start.log",
      healthTimeoutSeconds: 30,
    };
    const { workload, source } = await protectDatabase(engine, dir, compute, { offMeansPaused: true });
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
    assert.deepEqual(
      [description.size, description.cpus, description.generation, description.sourceGeneration, description.nics.length],
      ["Standard_D2s_v3", 2, 1, 2, 1],
    );
    await sleep(200); // the drill copy is running its own writes
    assert.ok(checkDatabase(path.join(report.machine.dir, "app.db"), "running drill copy") > 0); // live: its writer keeps the WAL
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
    assert.deepEqual(
      planned.tasks.map((t) => t.name),
      ["Prerequisites check", "Shut down source", "Synchronize", "Prepare data", "Start"],
    );
    await workload.gone();
    const outcome = planned.result as { point: { id: string }; dataLossWindowSeconds: number; machine: { dir: string; state: string; ip: string } };
    assert.equal(outcome.dataLossWindowSeconds, 0);
    assert.deepEqual([outcome.machine.dir, outcome.machine.state, outcome.machine.ip], [path.join(dir, "dr", "db"), "Running", "10.1.0.2"]);
    // The point failed over to holds every row the source had when it was shut down.
    const restored = path.join(dir, "check");
    assert.equal((await engine.materialize("db", outcome.point.id, restored)).state, "Succeeded");
    const atShutdown = await checkInPlace(path.join(source, "app.db"), "source");
    assert.ok(atShutdown >= workload.committed);
    assert.equal(checkDatabase(path.join(restored, "app.db"), "failover point"), atShutdown, "no committed row lost");
    // And the recovered machine runs: its workload goes on from there.
    await waitFor(
      "the recovery machine to commit rows of its own",
      () => checkDatabase(path.join(outcome.machine.dir, "app.db"), "running recovery machine") > atShutdown,
    );
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
    await assert.rejects(engine.failback("db"), /not replicating back/);

    // Reprotect: the machine running at the recovery site replicates back; only what it changed travels.
    const reprotect = await engine.reprotect("db");
    assert.equal(reprotect.state, "Succeeded", JSON.stringify(reprotect.error));
    const reverse = reprotect.result as { direction: string; blocksDiffering: number; bytesRead: number; bytesStored: number };
    assert.equal(reverse.direction, "recovery-to-primary");
    assert.ok(reverse.bytesStored < reverse.bytesRead / 2, `reprotect stored ${reverse.bytesStored} of ${reverse.bytesRead} bytes read`);
    for (let i = 0; i < 2; i++) {
      await sleep(200);
      clock.advance(30_000);
      assert.deepEqual((await engine.tick()).replicated, ["db"], "reverse replication runs on the copy frequency");
    }
    assert.deepEqual([(await engine.item("db")).failoverState, (await engine.item("db")).activeSite], ["Reprotected", "recovery"]);

    // Failback to the original location by delta: the recovery machine runs until the final switch.
    await sleep(200);
    const failback = await engine.failback("db", { location: "original" });
    assert.equal(failback.state, "Succeeded", JSON.stringify(failback.error));
    assert.deepEqual(
      failback.tasks.map((t) => t.name),
      ["Prerequisites check", "Synchronize while running", "Shut down recovery machine", "Final synchronization", "Write disks at primary", "Start at primary"],
    );
    const back = failback.result as {
      bytesTransferred: number;
      preSyncBytes: number;
      finalBytes: number;
      diskBytes: number;
      disks: Array<{ path: string }>;
      generation: number;
    };
    assert.deepEqual(
      back.disks.map((d) => d.path),
      [path.join(source, "app.db"), path.join(source, "app.db-wal")],
    );
    assert.equal(back.generation, 2);
    assert.ok(back.bytesTransferred < back.diskBytes / 4, `failback wrote ${back.bytesTransferred} of ${back.diskBytes} bytes`);
    console.log(
      `      failback by delta: ${back.bytesTransferred} bytes written (${back.preSyncBytes} while running, ${back.finalBytes} after the switch) for ${back.diskBytes} bytes of disks`,
    );
    // The primary holds exactly what the recovery machine had when it stopped.
    const atSwitch = await checkInPlace(path.join(outcome.machine.dir, "app.db"), "recovery machine");
    assert.equal(await checkInPlace(path.join(source, "app.db"), "primary after failback"), atSwitch, "no row lost on the way back");
    assert.deepEqual([(await engine.item("db")).activeSite, (await engine.item("db")).failoverState], ["primary", "FailedBack"]);

    // Commit the failback (the recovery machine goes), then reprotect towards the recovery site again.
    assert.equal((await engine.commit("db")).state, "Succeeded");
    assert.equal(existsSync(outcome.machine.dir), false);
    const again = await engine.reprotect("db");
    assert.equal(again.state, "Succeeded", JSON.stringify(again.error));
    assert.equal((again.result as { direction: string; bytesStored: number }).direction, "primary-to-recovery");
    assert.equal((again.result as { bytesStored: number }).bytesStored, 0, "the vault already holds every block of the primary");
    const final = await engine.item("db");
    assert.deepEqual([final.state, final.activeSite, final.failoverState, final.health], ["Protected", "primary", null, "Normal"]);
    assert.equal(final.disks[0].path, path.join(source, "app.db"));
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
    const outcome = job.result as {
      point: { id: string };
      notes: string[];
      sourceShutdown: string;
      dataLossWindowSeconds: number;
      machine: { dir: string; state: string };
    };
    assert.equal(outcome.sourceShutdown, "failed", "kill -KILL of a dead process fails");
    assert.match(outcome.notes.join(" "), /using the latest processed point/);
    assert.equal(outcome.dataLossWindowSeconds, 45);
    assert.equal(outcome.machine.state, "Materialized");
    const points = await engine.points("db");
    assert.equal(outcome.point.id, points[points.length - 1].id);
    const recovered = await checkInPlace(path.join(outcome.machine.dir, "app.db"), "recovered");
    const atCrash = await checkInPlace(path.join(source, "app.db"), "source");
    assert.ok(recovered >= committedAtLastCapture, `${recovered} rows recovered, ${committedAtLastCapture} committed before the point`);
    assert.ok(recovered <= atCrash, "nothing beyond what the source had");
    console.log(`      unplanned failover: ${recovered} of ${atCrash} rows recovered (${atCrash - recovered} committed after the point)`);

    // Change the recovery point before commit: an older point comes up instead.
    const older = points[1];
    const change = await engine.changeRecoveryPoint("db", older.id);
    assert.equal(change.state, "Succeeded", JSON.stringify(change.error));
    const m = JSON.parse(await fs.readFile(path.join(outcome.machine.dir, "machine.json"), "utf8"));
    assert.equal(m.point.id, older.id);
    assert.ok((await checkInPlace(path.join(outcome.machine.dir, "app.db"), "older point")) <= recovered);
    assert.equal((await engine.item("db")).failoverPoint, older.id);
  });
});
