// Failover as code: a live SQLite machine declared in a Pulumi program, run through the deployment
// harness against a real daemon. Changing `activeSite` and running `up` fails over (commit, reprotect);
// the preview first says which point each machine would use and what it would lose; changing it back
// fails back. The data is checked row by row at every stop.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../engine/server/launch";
import { EngineClient } from "../client/engine-client";
import { Engine } from "../engine";
import type { ImpactReport } from "../provider/runtime/active-site";
import { CLI } from "./cli";
import { checkInPlace, Workload } from "./fixtures/sqlite";
import { tempDir } from "./helpers";
import { harness, ok, ops, outputsOf, PULUMI_FIXTURES, stepOf, type Run } from "./pulumi-helpers";

/** The failoverImpact a preview step shows for a resource, from the harness's list of changed inputs. */
function impactShown(result: Run, name: string): ImpactReport {
  const change = (stepOf(result, name).changes ?? []).find((c) => c.key === "failoverImpact");
  assert.ok(change, `the preview of ${name} shows a failoverImpact:\n${result.output}`);
  return change.new as ImpactReport;
}

describe("declarative failover (activeSite in a Pulumi program)", function () {
  this.timeout(240_000);
  const root = tempDir("declarative-");
  const vault = path.join(root, "vault");
  const source = path.join(root, "source");
  let daemon: Daemon;
  let engine: EngineClient;
  let workload: Workload;
  let run: ReturnType<typeof harness>;

  before(async () => {
    fs.mkdirSync(source);
    workload = new Workload(path.join(source, "app.db"));
    await workload.until("a first commit", () => workload.committed > 0);
    await (await Engine.init(vault)).engine.close();
    daemon = await Daemon.start({ vault, logFile: path.join(root, "daemon.log"), cli: CLI });
    engine = new EngineClient(daemon.url, daemon.token, { pollMs: 50 });
    const base = { root, workloadPid: String(workload.pid), "lifeboat:endpoint": daemon.url, "lifeboat:token": daemon.token };
    run = harness(path.join(PULUMI_FIXTURES, "lifeboat-failover"), tempDir("declarative-state-"), base);
  });
  after(async () => {
    await workload?.stop();
    await daemon?.stop(15_000);
  });

  it("up at the primary, preview of a failover, failover by up, no drift after, failback by up", async () => {
    const first = ok(await run("up", { activeSite: "primary" }));
    assert.equal(outputsOf(first, "db").activeSite, "primary");
    assert.equal(outputsOf(first, "db").protectionState, "Protected");
    assert.equal(outputsOf(first, "db").failoverImpact, undefined, "nothing to move: no impact");

    // The preview names the move and its cost, and changes nothing.
    // The daemon's scheduler may run a replication cycle meanwhile (real clock, 30 s): count the other jobs.
    const moves = async () => (await engine.jobs({ limit: 1000 })).filter((j) => j.type !== "Replicate").length;
    const latestPoint = async () => (await engine.item("db")).latestPoint?.id;
    const jobsBefore = await moves();
    const preview = ok(await run("preview", { activeSite: "recovery" }));
    assert.equal(ops(preview).db, "update");
    assert.ok(/~ activeSite: "primary" => "recovery"/.test(preview.output), preview.output);
    const impact = impactShown(preview, "db");
    assert.ok(impact.known, JSON.stringify(impact));
    assert.equal(impact.direction, "primary-to-recovery");
    assert.equal(impact.type, "planned");
    assert.deepEqual(
      impact.groups.map((g) => [g.order, g.items.map((i) => [i.item, i.expectedDataLossSeconds, i.refusal])]),
      [[1, [["db", 0, undefined]]]],
    );
    assert.ok(impact.summary[0].includes("db planned primary-to-recovery"), impact.summary[0]);
    assert.equal((await engine.item("db")).activeSite, "primary");
    assert.equal(await moves(), jobsBefore, "a preview starts no job");
    workload.check(); // still running: the preview shut nothing down

    // An unplanned preview names the point it would use (the latest when it ran) and the data it would lose.
    const latestBefore = await latestPoint();
    const unplanned = impactShown(ok(await run("preview", { activeSite: "recovery", failoverType: "unplanned", point: "latest-processed" })), "db");
    assert.ok(unplanned.known);
    const item = unplanned.groups[0].items[0];
    assert.ok([latestBefore, await latestPoint()].includes(item.point?.id), "the latest processed point");
    assert.ok(item.expectedDataLossSeconds !== null && item.expectedDataLossSeconds >= 0);

    // With the engine out of reach, the preview still runs and says the impact is unknown.
    const blind = ok(await run("preview", { activeSite: "recovery", "lifeboat:endpoint": "http://127.0.0.1:9" }));
    const unknown = impactShown(blind, "db");
    assert.equal(unknown.known, false);
    assert.ok(!unknown.known && /unknown/.test(unknown.reason), JSON.stringify(unknown));

    // up fails over (planned: the source is shut down, the rest shipped), commits and reprotects.
    const over = ok(await run("up", { activeSite: "recovery" }));
    assert.equal(ops(over).db, "update");
    await workload.gone();
    const status = await engine.item("db");
    assert.deepEqual([status.activeSite, status.failoverState], ["recovery", "Reprotected"]);
    assert.equal(outputsOf(over, "db").activeSite, "recovery");
    const atShutdown = await checkInPlace(path.join(source, "app.db"), "source at shutdown");
    assert.ok(atShutdown >= workload.committed, "the source holds every committed row");
    const replica = path.join(root, "dr", "db", "app.db");
    assert.equal(await checkInPlace(replica, "recovery machine"), atShutdown, "planned failover lost no committed row");

    // A refresh reads where the plan's machines run; the same program again has nothing to do.
    assert.equal(outputsOf(ok(await run("refresh", { activeSite: "recovery" })), "app").activeSite, "recovery");
    const again = ok(await run("up", { activeSite: "recovery" }));
    assert.ok(
      Object.values(ops(again)).every((op) => op === "same"),
      JSON.stringify(ops(again)),
    );

    // Back: failback to the original disks by delta, commit, reprotect towards the recovery site again.
    const back = ok(await run("up", { activeSite: "primary" }));
    assert.equal(ops(back).db, "update");
    const home = await engine.item("db");
    assert.deepEqual([home.activeSite, home.failoverState, home.state], ["primary", null, "Protected"]);
    assert.equal(outputsOf(back, "db").activeSite, "primary");
    assert.equal(await checkInPlace(path.join(source, "app.db"), "primary after failback"), atShutdown, "no row lost on the way back");
  });

  it("a recovery plan's activeSite: unplanned failover of its groups from the chosen point, then failback", async () => {
    const config = { managedBy: "plan", failoverType: "unplanned", point: "latest-processed" };
    const latestBefore = (await engine.item("db")).latestPoint?.id;
    const preview = ok(await run("preview", { ...config, activeSite: "recovery" }));
    const latest = [latestBefore, (await engine.item("db")).latestPoint?.id];
    assert.equal(ops(preview).app, "update");
    // The machine gives its site over to the plan: it loses its wish and options, and shows no impact of its own
    // (the impact of its last move left its outputs once that move was done).
    assert.deepEqual(
      (stepOf(preview, "db").changes ?? []).map((c) => [c.key, c.new]),
      [
        ["activeSite", undefined],
        ["failover", undefined],
      ],
    );
    const impact = impactShown(preview, "app");
    assert.ok(impact.known, JSON.stringify(impact));
    assert.deepEqual(
      impact.groups.map((g) => [g.order, g.items.map((i) => i.item)]),
      [[1, ["db"]]],
    );
    assert.ok(latest.includes(impact.groups[0].items[0].point?.id), "the latest processed point when the preview ran");

    const over = ok(await run("up", { ...config, activeSite: "recovery" }));
    assert.equal(outputsOf(over, "app").activeSite, "recovery");
    const status = await engine.item("db");
    assert.deepEqual([status.activeSite, status.failoverState], ["recovery", "Reprotected"]);
    const plans = (await engine.jobs({ limit: 1000 })).filter((j) => j.type === "RecoveryPlan");
    assert.equal(plans[0]?.state, "Succeeded", "the move ran as the plan");

    const back = ok(await run("up", { ...config, activeSite: "primary" }));
    assert.equal(outputsOf(back, "app").activeSite, "primary");
    assert.deepEqual([(await engine.item("db")).activeSite, (await engine.item("db")).failoverState], ["primary", null]);
    assert.ok((await checkInPlace(path.join(source, "app.db"), "primary after the plan's failback")) > 0);
  });
});
