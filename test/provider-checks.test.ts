// The provider's checks and reads, through the deployment harness (real Pulumi runtime processes)
// against real daemons: what a preview must refuse before anything exists (paths outside the allowed
// directories, contradicting activeSite declarations, unknown hosts), and what a refresh must see.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../engine/server/launch";
import { EngineClient } from "../client/engine-client";
import { Engine } from "../engine";
import { LOCAL_TOKEN_FILE } from "../engine/server/daemon-files";
import { CLI, lifeboat as cli } from "./cli";
import { makeDisk, tempDir } from "./helpers";
import type { ImpactReport } from "../provider/runtime/active-site";
import { harness, ok, ops, outputsOf, PULUMI_FIXTURES, daemonRecord, stepOf, withoutEndpoint, type Run } from "./pulumi-helpers";

const CHECKS = path.join(PULUMI_FIXTURES, "lifeboat-checks");
const ITEM = "db [pulumi-nodejs:dynamic/lifeboat:ProtectedItem]: check failed: ";
const PLAN = "app [pulumi-nodejs:dynamic/lifeboat:RecoveryPlan]: check failed: ";

/** The first error of a run that must have failed (the program may add its own as it stops). */
function refused(run: Run): string {
  assert.equal(run.ok, false, `the run should have failed:\n${run.output}`);
  return run.errors[0];
}

/** A fresh root with the OS disk of "db" in root/disks, and the harness for the checks fixture over it. */
async function checksProgram(prefix: string) {
  const root = tempDir(prefix);
  fs.mkdirSync(path.join(root, "disks"));
  await makeDisk(path.join(root, "disks", "db.img"), 4);
  return { root, vault: path.join(root, "vault"), run: harness(CHECKS, tempDir(`${prefix}state-`), { root }) };
}

/** The engine of the daemon the provider started for the vault. */
function embeddedEngine(vault: string): { engine: EngineClient; pid: number } {
  const record = daemonRecord(vault);
  assert.ok(record, "a daemon serves the vault");
  return { engine: new EngineClient(record.url, fs.readFileSync(path.join(vault, LOCAL_TOKEN_FILE), "utf8").trim(), { pollMs: 50 }), pid: record.pid };
}

describe("Pulumi provider checks: caught in the first preview (the embedded default, nothing exists yet)", function () {
  this.timeout(240_000);
  const daemons = withoutEndpoint();

  it("a disk outside the vault's parent fails the first preview naming it and how to allow it; with lifeboat:allowedPaths it deploys through the embedded daemon", async () => {
    const { vault, run } = await checksProgram("checks-paths-");
    const elsewhere = tempDir("checks-vms-");
    const disk = path.join(elsewhere, "db.img");
    await makeDisk(disk, 4);

    const first = refused(await run("preview", { disk }));
    assert.ok(first.startsWith(`${ITEM}property "disks.0.path": ${disk} is outside the directories this engine allows (`), first);
    assert.ok(first.includes("pulumi config set --path 'lifeboat:allowedPaths[0]' DIR"), first);
    assert.equal(fs.existsSync(vault), false, "the preview started nothing and made no vault");

    const bad = refused(await run("preview", { disk, "lifeboat:allowedPaths": "[3]" }));
    assert.match(bad, /lifeboat:allowedPaths must be a list of directories; to set it, run: pulumi config set --path 'lifeboat:allowedPaths\[0\]' DIR/);

    const allowed = { disk, "lifeboat:allowedPaths": JSON.stringify([elsewhere]) };
    assert.deepEqual(ops(ok(await run("preview", allowed))), { vault: "create", hq: "create", dr: "create", gold: "create", db: "create", app: "create" });
    ok(await run("up", allowed));
    const { engine, pid } = embeddedEngine(vault);
    daemons.started(pid);
    const item = await engine.item("db");
    assert.equal(item.state, "Protected");
    assert.deepEqual(
      item.disks.map((d) => d.path),
      [disk],
    );

    // Without the setting the rule is the vault's parent again: refused in preview, though the daemon runs.
    assert.ok(refused(await run("preview", { disk })).startsWith(`${ITEM}property "disks.0.path": ${disk} is outside`));
    ok(await run("destroy", allowed));
  });

  it("activeSite declared on a machine and on its plan fails the first preview in either order, naming both; so does a host its site lacks", async () => {
    const { vault, run } = await checksProgram("checks-intent-");
    const both = { itemSite: "primary", planSite: "primary" };
    const itemFirst = refused(await run("preview", both));
    assert.ok(itemFirst.startsWith(`${PLAN}property "activeSite": the ProtectedItem 'db' of this plan declares activeSite too`), itemFirst);
    const planFirst = refused(await run("preview", { ...both, order: "plan-first" }));
    assert.ok(planFirst.startsWith(`${ITEM}property "activeSite": the RecoveryPlan 'app', which holds this machine, declares activeSite too`), planFirst);
    assert.match(planFirst, /declare activeSite on the machine or on the plan, not both/);

    const host = refused(await run("preview", { host: "srv99" }));
    assert.equal(host, `${ITEM}property "host": site 'hq' has no host named 'srv99' (its hosts: srv01); add it to the Site's hosts`);
    assert.equal(fs.existsSync(vault), false, "nothing was made");

    // Once the machine exists and the daemon runs, the same contradictions are still caught.
    ok(await run("up", { itemSite: "primary" }));
    daemons.started(embeddedEngine(vault).pid);
    assert.ok(refused(await run("preview", both)).startsWith(`${PLAN}property "activeSite": the ProtectedItem 'db'`));
    assert.ok(refused(await run("up", { host: "srv99" })).startsWith(`${ITEM}property "host": site 'hq' has no host named 'srv99'`));
    assert.deepEqual(ops(ok(await run("preview", { planSite: "primary" }))).app, "update", "the wish moves to the plan");
    ok(await run("destroy"));
  });
});

/** The failoverImpact change a preview step shows for a resource. */
function impactChange(result: Run, name: string) {
  const change = (stepOf(result, name).changes ?? []).find((c) => c.key === "failoverImpact");
  assert.ok(change, `the preview of ${name} shows a failoverImpact:\n${result.output}`);
  return change as { old: unknown; new: ImpactReport };
}

describe("Pulumi provider: the preview of a move tells what the move does", function () {
  this.timeout(240_000);
  const daemons = withoutEndpoint();

  it("an unplanned failover at latest: 0 s if the source answers, up to the latest point's age if not; the impact is gone once the move is done", async () => {
    const { vault, run } = await checksProgram("checks-impact-");
    ok(await run("up", { itemSite: "primary" }));
    const { engine, pid } = embeddedEngine(vault);
    daemons.started(pid);
    const latestBefore = (await engine.item("db")).latestPoint!.id;

    const impact = impactChange(ok(await run("preview", { itemSite: "recovery" })), "db").new;
    assert.ok(impact.known, JSON.stringify(impact));
    const [item] = impact.groups[0].items;
    assert.deepEqual([item.point, item.pointOption, item.expectedDataLossSeconds], [null, "latest (captured at failover)", 0]);
    const fallback = item.ifSourceDown!;
    assert.ok([latestBefore, (await engine.item("db")).latestPoint!.id].includes(fallback.point!.id), "without the source: the latest point");
    assert.ok(fallback.dataLossSeconds !== null && fallback.dataLossSeconds >= 0);
    assert.equal(
      impact.summary[0],
      `group 1: db unplanned primary-to-recovery: latest (captured at failover), data loss 0 s if the source answers at failover (a final sync), up to ${fallback.dataLossSeconds} s (the age of the latest point, ${fallback.point!.id}) if it does not`,
    );

    // The move does what the preview said: it captured a point of its own, so it lost nothing.
    const over = ok(await run("up", { itemSite: "recovery" }));
    assert.equal(outputsOf(over, "db").activeSite, "recovery");
    assert.equal(outputsOf(over, "db").failoverImpact, undefined, "the impact is spent once the move is done");
    const failover = (await engine.jobs({ target: "db", limit: 100 })).find((j) => j.type === "Failover")!;
    const result = failover.result as { point: { id: string; capturedAt: string }; notes: string[] };
    assert.notEqual(result.point.id, fallback.point!.id, `a point captured at failover (${result.notes.join("; ")})`);
    assert.ok(Date.parse(result.point.capturedAt) >= Date.parse(fallback.point!.capturedAt), "captured after the latest point of the preview");

    // The way back shows only its own impact: no stale one as the old side of the diff.
    const back = impactChange(ok(await run("preview", { itemSite: "primary" })), "db");
    assert.equal(back.old, undefined, JSON.stringify(back.old));
    assert.ok(back.new.known && back.new.direction === "recovery-to-primary", JSON.stringify(back.new));
    const home = ok(await run("up", { itemSite: "primary" }));
    assert.equal(outputsOf(home, "db").failoverImpact, undefined);
    assert.equal((await engine.item("db")).activeSite, "primary");
    ok(await run("destroy"));
  });
});

describe("Pulumi provider: refresh sees what changed behind Pulumi's back, for every kind", function () {
  this.timeout(240_000);
  const root = tempDir("checks-drift-");
  const vault = path.join(root, "vault");
  const run = harness(path.join(PULUMI_FIXTURES, "lifeboat-dr"), tempDir("checks-drift-state-"), () => ({
    root,
    "lifeboat:endpoint": daemon.url,
    "lifeboat:token": daemon.token,
  }));
  let daemon: Daemon;
  let engine: EngineClient;

  before(async () => {
    fs.mkdirSync(path.join(root, "disks"));
    await makeDisk(path.join(root, "disks", "web01-os.img"), 8);
    await makeDisk(path.join(root, "disks", "web01-data.img"), 4);
    await (await Engine.init(vault)).engine.close();
    daemon = await Daemon.start({ vault, logFile: path.join(root, "daemon.log"), cli: CLI });
    engine = new EngineClient(daemon.url, daemon.token, { pollMs: 50 });
  });
  after(() => daemon?.stop(15_000));

  it("a site's hosts, a policy, a network, a mapping, a machine's settings and a plan show the engine's values; a drill cleaned up with the CLI is gone", async () => {
    const created = ok(await run("up", { drill: "true" }));
    assert.equal(ops(created).drill, "create");
    // Nothing changed yet: each kind reads back exactly what it holds (the machine's RPO moves on its own).
    const quiet = ok(await run("refresh", { drill: "true" }));
    assert.deepEqual(
      Object.entries(ops(quiet)).filter(([name, op]) => name !== "web01" && op !== "same"),
      [],
    );

    const cleanup = await cli(["--vault", vault, "drill", "cleanup", "web01", "--notes", "by hand"]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    await engine.updateSite("hq", { hosts: ["hv01", "hv02"] });
    await engine.updatePolicy("gold", { copyFrequency: "15m", retentionHours: 12 });
    await engine.addNetwork({ name: "dr-net2", site: "dr", subnets: ["10.2.0.0/24"] });
    await engine.removeNetworkMapping("corp");
    await engine.addNetworkMapping({ source: "corp", target: "dr-net2" });
    await engine.removeNetwork("dr-net");
    await engine.addNetwork({ name: "dr-net", site: "dr", subnets: ["10.3.0.0/24"] });
    await engine.updateItem("web01", {
      host: "hv02",
      nics: [{ network: "corp" }, { network: "backup" }],
      recovery: { site: "dr", targetSize: "Standard_B1s" },
    });
    await engine.replacePlan("shop", { name: "shop", groups: [{ items: ["web01"] }] });

    const refreshed = ok(await run("refresh", { drill: "true" }));
    assert.deepEqual(ops(refreshed), {
      vault: "same",
      hq: "update",
      dr: "same",
      gold: "update",
      "dr-net": "update",
      corp: "update",
      web01: "update",
      shop: "update",
      drill: "delete",
    });
    const out = (name: string) => outputsOf(refreshed, name);
    assert.deepEqual(out("hq").hosts, ["hv01", "hv02"]);
    assert.deepEqual([out("gold").copyFrequency, out("gold").retentionHours], ["15m", 12]);
    assert.deepEqual(out("dr-net").subnets, ["10.3.0.0/24"]);
    assert.equal(out("corp").target, "dr-net2");
    assert.equal(out("web01").host, "hv02");
    assert.deepEqual(out("web01").nics, [{ network: "corp" }, { network: "backup" }]);
    assert.equal((out("web01").recovery as { targetSize: string }).targetSize, "Standard_B1s");
    assert.deepEqual((out("shop").groups as Array<{ after: unknown[] }>)[0].after, []);
    assert.equal(
      refreshed.state.resources.some((r) => r.name === "drill"),
      false,
      "the cleaned-up drill left the state",
    );

    await engine.removeNetworkMapping("corp");
    await engine.removeNetwork("dr-net2");
    ok(await run("destroy"));
  });
});
