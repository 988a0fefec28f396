// Every example program, run the way `pulumi` runs it — through the deployment harness (the real
// `cmd/run` program host and dynamic-provider process) — against a real `lifeboat serve` started
// here: preview, up, an up with nothing to change, refresh and destroy, checked against what the
// engine then holds.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { Daemon } from "../engine/server/launch";
import { EngineClient } from "../client/engine-client";
import { Engine } from "../engine";
import { environmentResources } from "../schema";
import { CLI } from "./cli";
import type { Action, DeployResult } from "./harness/deploy";
import type { Op } from "./harness/report";
import { tempDir } from "./helpers";
import { harness, ok } from "./pulumi-helpers";

const REPO = path.resolve(__dirname, "..");
const exampleDir = (name: string) => path.join(REPO, "examples", name);
const run = promisify(execFile);

/** name → op of the stack's resources other than the stack itself. */
function ops(result: DeployResult): Record<string, Op> {
  return Object.fromEntries(result.steps.filter((s) => s.type !== "pulumi:pulumi:Stack").map((s) => [s.name, s.op]));
}

const allSame = (result: DeployResult) => assert.ok(result.steps.length > 0 && result.steps.every((s) => s.op === "same"), JSON.stringify(result.steps));
const stackOutputs = (result: DeployResult) => result.state.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
const customNames = (result: DeployResult) =>
  result.state.resources
    .filter((r) => r.custom)
    .map((r) => r.name)
    .sort();

describe("examples (through the deployment harness, against a real daemon)", function () {
  this.timeout(120_000);
  const dir = tempDir("examples-");
  const vault = path.join(dir, "vault");
  let daemon: Daemon;
  let client: EngineClient;
  const transpileOnly = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;

  before(async () => {
    // The programs are type-checked once below; each run only transpiles them.
    process.env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
    const { engine } = await Engine.init(vault);
    await engine.close();
    daemon = await Daemon.start({ vault, logFile: path.join(dir, "daemon.log"), cli: CLI });
    client = new EngineClient(daemon.url, daemon.token, { pollMs: 50 });
  });
  after(async () => {
    if (transpileOnly === undefined) delete process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    else process.env.PULUMI_NODEJS_TRANSPILE_ONLY = transpileOnly;
    await daemon?.stop(15_000);
  });

  /** A project dir's harness runs, configured for the test daemon, each with its state and data apart. */
  const harnessFor = (project: string, stack = "test") => {
    const name = path.basename(project);
    const runs = harness(project, path.join(dir, "state", name), () => ({
      "lifeboat:endpoint": daemon.url,
      "lifeboat:token": daemon.token,
      vaultPath: vault,
      dataDir: path.join(dir, "data", name),
    }));
    return (action: Action, config: Record<string, string> = {}) => runs(action, config, stack);
  };

  /** What the engine holds, by kind: names only. */
  async function engineContents() {
    const [sites, policies, status, networks, mappings, plans] = await Promise.all([
      client.listSites(),
      client.listPolicies(),
      client.status(),
      client.listNetworks(),
      client.listNetworkMappings(),
      client.listPlans(),
    ]);
    const names = (list: Array<{ name: string }>) => list.map((x) => x.name).sort();
    return {
      sites: names(sites),
      policies: names(policies),
      items: names(status.items),
      networks: names(networks),
      mappings: mappings.map((m) => m.source).sort(),
      plans: names(plans),
    };
  }
  const EMPTY = { sites: [], policies: [], items: [], networks: [], mappings: [], plans: [] };

  it("every example type-checks against the package's types", async () => {
    await run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(REPO, "examples", "tsconfig.json")]).catch(
      (error: { stdout?: string }) => {
        assert.fail(`tsc found errors in the examples:\n${error.stdout}`);
      },
    );
  });

  describe("quickstart, then drill-in-ci on top of it", () => {
    const quickstart = harnessFor(exampleDir("quickstart"));
    const drill = harnessFor(exampleDir("drill-in-ci"));
    const dataDir = path.join(dir, "data", "quickstart");
    const QUICKSTART = [
      "quickstart",
      "quickstart-db",
      "quickstart-dr",
      "quickstart-dr-net",
      "quickstart-hq",
      "quickstart-map-corp",
      "quickstart-plan",
      "quickstart-standard",
      "quickstart-vault",
      "quickstart-web",
    ];

    it("preview plans every resource of the component and changes nothing in the engine", async () => {
      const result = ok(await quickstart("preview"));
      assert.deepEqual(Object.keys(ops(result)).sort(), QUICKSTART);
      assert.ok(
        Object.values(ops(result)).every((op) => op === "create"),
        JSON.stringify(ops(result)),
      );
      assert.deepEqual(await engineContents(), EMPTY);
    });

    it("up protects both machines, the plan keeps the declared order, and the summary shows them healthy at the primary", async () => {
      const result = ok(await quickstart("up"));
      assert.ok(Object.values(ops(result)).every((op) => op === "create"));
      assert.deepEqual(
        customNames(result),
        QUICKSTART.filter((n) => n !== "quickstart"),
      );
      assert.deepEqual(await engineContents(), {
        sites: ["dr", "hq"],
        policies: ["standard", "standard-failback"],
        items: ["db", "web"],
        networks: ["dr-net"],
        mappings: ["corp"],
        plans: ["quickstart"],
      });
      const plan = await client.getPlan("quickstart");
      assert.deepEqual(
        plan.groups.map((g) => g.items),
        [["db"], ["web"]],
      );
      const db = await client.item("db");
      assert.equal(db.state, "Protected");
      assert.deepEqual(
        db.disks.map((d) => [d.name, d.path]),
        [
          ["os", path.join(dataDir, "disks", "db-os.img")],
          ["data", path.join(dataDir, "disks", "shop.db")],
        ],
      );
      const summary = stackOutputs(result).summary as Array<{ name: string; health: string; activeSite: string; rpoSeconds: number }>;
      assert.deepEqual(
        summary.map((s) => [s.name, s.health, s.activeSite]),
        [
          ["db", "Normal", "primary"],
          ["web", "Normal", "primary"],
        ],
      );
      assert.ok(
        summary.every((s) => typeof s.rpoSeconds === "number" && s.rpoSeconds >= 0),
        JSON.stringify(summary),
      );
    });

    it("a second up changes nothing", async () => {
      allSame(ok(await quickstart("up")));
    });

    it("refresh reads every resource back and keeps them all", async () => {
      const result = ok(await quickstart("refresh"));
      assert.ok(
        Object.values(ops(result)).every((op) => op !== "delete"),
        JSON.stringify(ops(result)),
      );
      assert.deepEqual(
        customNames(result),
        QUICKSTART.filter((n) => n !== "quickstart"),
      );
      allSame(ok(await quickstart("up")));
    });

    it("the example's workload writes orders into the database disk, and a replication cycle brings them into the vault", async () => {
      const workload = path.join(exampleDir("quickstart"), "workload.ts");
      const { stdout } = await run(process.execPath, ["-r", "ts-node/register", workload, dataDir, "250"], {
        cwd: REPO,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      });
      const orders = Number(/^(\d+) orders/.exec(stdout)?.[1]);
      assert.equal(orders, 260, stdout); // 10 written when the disks were made, 250 now
      const before = (await client.points("db")).length;
      assert.equal((await client.replicateNow("db")).state, "Succeeded");
      assert.equal((await client.points("db")).length, before + 1);
      const out = path.join(dir, "materialized");
      assert.equal((await client.materialize("db", "latest", out)).state, "Succeeded");
      const copy = new Database(path.join(out, "data"), { readonly: true });
      try {
        assert.equal(copy.pragma("integrity_check", { simple: true }), "ok");
        assert.equal((copy.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n, 260);
      } finally {
        copy.close();
      }
    });

    it("drill-in-ci: preview plans only the drill; up runs the test failover and exports its report", async () => {
      const previewed = ok(await drill("preview", { item: "db" }));
      assert.deepEqual(ops(previewed), { drill: "create" });
      const result = ok(await drill("up", { item: "db", notes: "CI run 42" }));
      assert.deepEqual(ops(result), { drill: "create" });
      const report = stackOutputs(result).report as {
        point: unknown;
        machines: Array<{ item: string; name: string; ip: string | null }>;
        checksPassed: boolean;
        durationSeconds: number;
      };
      assert.deepEqual(
        report.machines.map((m) => m.item),
        ["db"],
      );
      assert.equal(report.checksPassed, true);
      assert.ok(report.point, "the report names the recovery point");
      assert.match(String(report.machines[0].ip), /^(\d+\.){3}\d+$/, "the drill machine has an address");
      assert.ok(fs.existsSync(path.join(dataDir, "recovery", "db-test")), "the drill's machine is at the recovery site");
    });

    it("drill-in-ci: a second up changes nothing, refresh keeps the drill, destroy cleans it up with the notes", async () => {
      const config = { item: "db", notes: "CI run 42" };
      allSame(ok(await drill("up", config)));
      assert.deepEqual(ops(ok(await drill("refresh", config))), { drill: "same" });
      const destroyed = ok(await drill("destroy", config));
      assert.deepEqual(ops(destroyed), { drill: "delete" });
      assert.equal(fs.existsSync(path.join(dataDir, "recovery", "db-test")), false);
      const jobs = await client.jobs({ target: "db" });
      assert.equal(jobs[0].type, "TestFailoverCleanup");
      assert.equal(jobs[0].state, "Succeeded");
    });

    it("quickstart destroy leaves the engine with nothing", async () => {
      const result = ok(await quickstart("destroy"));
      assert.ok(Object.values(ops(result)).every((op) => op === "delete"));
      assert.deepEqual(result.state.resources, []);
      assert.deepEqual(await engineContents(), EMPTY);
    });
  });

  describe("hyperv-plan", () => {
    const hyperv = harnessFor(exampleDir("hyperv-plan"));
    const dataDir = path.join(dir, "data", "hyperv-plan");

    it("preview, then up: three Hyper-V machines and a three-group plan with scripts and a planned-only manual step", async () => {
      const previewed = ok(await hyperv("preview"));
      assert.deepEqual(Object.keys(ops(previewed)).sort(), ["app", "corp", "db", "dr", "dr-net", "gold", "hq", "shop", "vault", "web"]);
      assert.deepEqual(await engineContents(), EMPTY);

      ok(await hyperv("up"));
      const contents = await engineContents();
      assert.deepEqual(contents.items, ["app", "db", "web"]);
      const hq = (await client.listSites()).find((s) => s.name === "hq")!;
      assert.equal(hq.kind, "hyperv");
      assert.deepEqual([...hq.hosts].sort(), ["hv01", "hv02"]);
      const db = await client.item("db");
      assert.equal(db.host, "hv01");
      assert.equal(db.osType, "windows");
      const plan = await client.getPlan("shop");
      assert.deepEqual(
        plan.groups.map((g) => g.items),
        [["db"], ["app"], ["web"]],
      );
      assert.deepEqual(
        plan.groups.map((g) => [g.before.map((a) => a.name), g.after.map((a) => a.name)]),
        [
          [["drain-connections"], ["check-db"]],
          [[], ["warm-cache"]],
          [[], ["smoke-test", "switch-dns"]],
        ],
      );
      const manual = plan.groups[2].after[1];
      assert.equal(manual.kind, "manual");
      assert.deepEqual(manual.failoverTypes, ["planned"]);
    });

    it("a test run of the plan runs the scripts in group order and skips the planned-only manual step", async () => {
      const job = await client.runPlan("shop", { type: "test" });
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      const log = fs.readFileSync(path.join(dataDir, "plan.log"), "utf8").trim().split("\n");
      assert.deepEqual(
        log.map((line) => line.replace(/^test primary-to-recovery group \d: /, "")),
        ["connections drained", "database answering", "application caches warmed", "storefront smoke test passed"],
      );
      for (const item of ["db", "app", "web"]) assert.equal((await client.drillCleanup(item, "plan test")).state, "Succeeded");
    });

    it("a second up changes nothing; refresh keeps everything; destroy leaves the engine with nothing", async () => {
      allSame(ok(await hyperv("up")));
      const refreshed = ok(await hyperv("refresh"));
      assert.ok(
        Object.values(ops(refreshed)).every((op) => op !== "delete"),
        JSON.stringify(ops(refreshed)),
      );
      const destroyed = ok(await hyperv("destroy"));
      assert.deepEqual(destroyed.state.resources, []);
      assert.deepEqual(await engineContents(), EMPTY);
    });
  });

  describe("the repository root", () => {
    it("is a Pulumi project that runs the quickstart", async () => {
      const root = harnessFor(REPO, "root");
      const result = ok(await root("preview", { dataDir: path.join(dir, "data", "root") }));
      assert.ok(
        result.steps.some((s) => s.name === "quickstart-db" && s.op === "create"),
        result.output,
      );
      assert.equal(result.steps.filter((s) => s.op === "create").length, 11);
    });
  });

  describe("a bad environment description", () => {
    it("fails naming the property, and declares nothing", async () => {
      const bad = harnessFor(path.join(__dirname, "fixtures", "pulumi", "environment"));
      const description = {
        vault: { path: vault },
        recovery: { path: path.join(dir, "bad-dr") },
        policy: { retentionHours: 100 },
        machines: [{ name: "vm", disks: [{ name: "os", path: path.join(dir, "vm.img") }] }],
      };
      const result = await bad("up", { description: JSON.stringify(description) });
      assert.equal(result.ok, false);
      const errors = result.errors.join("\n");
      assert.match(
        errors,
        /invalid DisasterRecoveryEnvironment 'env': policy\.retentionHours: must be at most 72 hours; machines\.0\.disks: exactly one disk must be the OS disk \(found 0\)/,
      );
      assert.deepEqual(
        result.state.resources.filter((r) => r.custom),
        [],
      );
      assert.deepEqual(await engineContents(), EMPTY);
    });
  });
});

describe("the environment description (schema/environment.ts)", () => {
  const disk = (name: string) => [{ name: "os", path: `/vms/${name}.img`, os: true }];
  const base = { vault: { path: "/v" }, recovery: { path: "/dr", network: { name: "dr-net", subnets: ["10.1.0.0/24"] } } };

  it("fills in the defaults: hosts from the machines, plan groups by replication group, NIC networks mapped to the recovery network", () => {
    const env = environmentResources("shop").parse({
      ...base,
      machines: [
        { name: "db1", host: "hv01", group: "data", disks: disk("db1"), nics: [{ network: "corp" }] },
        { name: "web", host: "hv02", disks: disk("web"), nics: [{ network: "dmz" }] },
        { name: "db2", host: "hv01", group: "data", disks: disk("db2") },
      ],
    });
    assert.deepEqual(env.primary, { name: "primary", kind: "hyperv", hosts: ["hv01", "hv02"] });
    assert.equal(env.policy.name, "default");
    assert.equal(env.policy.copyFrequency, "5m");
    assert.deepEqual(env.plan.name, "shop");
    assert.deepEqual(
      env.plan.groups.map((g) => g.items),
      [["db1", "db2"], ["web"]],
    );
    assert.deepEqual(env.planIntent, { activeSite: undefined, failover: undefined, failback: undefined }, "failover is not managed unless asked");
    assert.deepEqual(env.networkMappings, [
      { source: "corp", target: "dr-net" },
      { source: "dmz", target: "dr-net" },
    ]);
    assert.deepEqual(
      env.items.map((i) => [i.site, i.policy, i.recovery?.site, i.recovery?.network]),
      [
        ["primary", "default", "recovery", undefined],
        ["primary", "default", "recovery", undefined],
        ["primary", "default", "recovery", "dr-net"], // no NIC to map: straight onto the recovery network
      ],
    );
  });

  it("passes the plan's failover intent through, defaulted by its schema", () => {
    const env = environmentResources("shop").parse({
      ...base,
      machines: [{ name: "db", disks: disk("db") }],
      plan: { activeSite: "recovery", failover: { type: "unplanned" } },
    });
    assert.deepEqual(env.planIntent, { activeSite: "recovery", failover: { type: "unplanned", point: "latest", shutdownSource: false }, failback: undefined });
    const bad = environmentResources("shop").safeParse({
      ...base,
      machines: [{ name: "db", disks: disk("db") }],
      plan: { activeSite: "elsewhere", failover: { point: "yesterday" } },
    });
    assert.deepEqual(
      bad.error?.issues.map((i) => i.path.join(".")),
      ["plan.activeSite", "plan.failover.point"],
    );
  });

  it("names every bad property, the resources' own rules included", () => {
    const result = environmentResources("shop").safeParse({
      ...base,
      policy: { copyFrequency: "1m" },
      machines: [
        { name: "a", site: "elsewhere", disks: disk("a") },
        { name: "a", disks: disk("a2"), excludedDisks: ["os"] },
      ],
      groups: [["a"], ["ghost"]],
    });
    assert.equal(result.success, false);
    const issues = result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    assert.deepEqual(issues.map((i) => i.split(":")[0]).sort(), [
      "groups.1.items.0",
      "machines.0.site",
      "machines.1.excludedDisks.0",
      "machines.1.name",
      "policy.copyFrequency",
    ]);
    assert.ok(issues.includes("machines.0.site: is set by the environment (the primary site)"), issues.join("\n"));
    assert.ok(issues.includes("groups.1.items.0: 'ghost' is not a machine of this environment"), issues.join("\n"));
  });
});
