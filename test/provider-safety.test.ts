// The provider never takes over what it did not make, unless told to (adopt); a disk's new path is a
// move that keeps the recovery points; nested arguments take Outputs; a destroyed Vault's registration
// key stops working. Programs run through the deployment harness (the real program host and
// dynamic-provider processes) against a real daemon; disks are real image files.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../engine/server/launch";
import { EngineClient } from "../client/engine-client";
import { Engine } from "../engine";
import type { DrillReport } from "../engine/failover/drill";
import { CLI, vaultCli } from "./cli";
import { makeDisk, overwriteBlocks, tempDir } from "./helpers";
import { embeddedDaemonPid, harness, inventoryOf, ok, ops, outputsOf, PULUMI_FIXTURES, stepOf, stopProcess, type Run } from "./pulumi-helpers";

const SAFETY = path.join(PULUMI_FIXTURES, "provider-safety");

/** What the engine holds of each kind the fixture declares, as the vault's objects are set up below. */
async function seed(
  engine: Pick<Engine, "addSite" | "addPolicy" | "addNetwork" | "addNetworkMapping" | "protect" | "replicateNow" | "addPlan">,
  root: string,
  cycles: number,
) {
  await engine.addSite({ name: "hq", kind: "hyperv", hosts: ["hv01"] });
  await engine.addSite({ name: "dr", kind: "recovery", path: path.join(root, "recovery") });
  await engine.addPolicy({ name: "silver", copyFrequency: "5m", retentionHours: 24 });
  await engine.addNetwork({ name: "dr-net", site: "dr", subnets: ["10.1.0.0/24"] });
  await engine.addNetworkMapping({ source: "corp", target: "dr-net" });
  const disk = path.join(root, "disks", "db.img");
  await engine.protect({ name: "db", site: "hq", host: "hv01", policy: "silver", disks: [{ name: "os", path: disk, os: true }], recovery: { site: "dr" } });
  for (let i = 1; i < cycles; i++) {
    await overwriteBlocks(disk, i, i + 1);
    await engine.replicateNow("db");
  }
  await engine.addPlan({ name: "shop", groups: [{ items: ["db"] }] });
}

const lifeboatResources = (result: Run) => result.state.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/lifeboat:")).map((r) => r.name);

describe("Pulumi provider safety: through a daemon", function () {
  this.timeout(300_000);
  const root = tempDir("safety-");
  const stateDir = tempDir("safety-state-");
  const vaultDir = path.join(root, "vault");
  let daemon: Daemon;
  let engine: EngineClient;
  let run: ReturnType<typeof harness>;
  const inventory = () => inventoryOf(engine);
  const pointIds = async (item: string) => (await engine.points(item)).map((p) => p.id);

  before(async () => {
    fs.mkdirSync(path.join(root, "disks"));
    await makeDisk(path.join(root, "disks", "db.img"), 16);
    await makeDisk(path.join(root, "disks", "app.img"), 16);
    await makeDisk(path.join(root, "disks", "web.img"), 8);
    await (await Engine.init(vaultDir)).engine.close();
    daemon = await Daemon.start({ vault: vaultDir, logFile: path.join(root, "daemon.log"), cli: CLI });
    engine = new EngineClient(daemon.url, daemon.token, { pollMs: 50 });
    await seed(engine, root, 10);
    run = harness(SAFETY, stateDir, { root, "lifeboat:endpoint": daemon.url, "lifeboat:token": daemon.token });
  });
  after(async () => {
    await daemon?.stop(15_000);
  });

  it("a new resource named like an object the engine has fails its check, naming the property, for every named kind; nothing is recorded", async () => {
    const before = await inventory();
    const points = await pointIds("db");
    const kinds: Array<[string, string]> = [
      ["hq", "name"],
      ["dr", "name"],
      ["silver", "name"],
      ["dr-net", "name"],
      ["corp", "source"],
      ["db", "name"],
      ["shop", "name"],
    ];
    for (const [object, property] of kinds) {
      const result = await run("up", { declare: object }, `taken-${object}`);
      assert.equal(result.ok, false, `${object}: ${result.output}`);
      assert.match(
        result.errors[0],
        new RegExp(`check failed: property "${property}": .*'${object}' exists in the vault already.*adopt: true`),
        result.errors[0],
      );
      assert.deepEqual(lifeboatResources(result), [], `${object} is not in the state`);
      assert.deepEqual(ops(result), {}, `${object}: no step ran`);
    }
    assert.deepEqual(await inventory(), before);
    assert.deepEqual(await pointIds("db"), points);
  });

  it("nested arguments take Outputs: a TypeScript program passing them type-checks and deploys those values", async () => {
    const disk = path.join(root, "disks", "web.img");
    const nested = harness(path.join(PULUMI_FIXTURES, "nested-inputs"), stateDir, {
      root,
      disk,
      "lifeboat:endpoint": daemon.url,
      "lifeboat:token": daemon.token,
    });
    const up = ok(await nested("up"));
    assert.deepEqual(ops(up), { vault: "create", "n-hq": "create", "n-dr": "create", "n-gold": "create", "n-web": "create", "n-plan": "create" });
    const web = await engine.item("n-web");
    assert.deepEqual(
      web.disks.map((d) => d.path),
      [disk],
      "disks[0].path",
    );
    assert.equal(web.state, "Protected");
    const plan = await engine.getPlan("n-plan");
    assert.deepEqual(
      plan.groups.map((g) => [g.items, g.after.map((a) => a.command)]),
      [[["n-web"], ["test -n n-web"]]],
      "groups[0].items[0] and an action's command",
    );
    // recovery.site reached the engine: a drill comes up at n-dr.
    const drill = await engine.drill("n-web");
    assert.equal(drill.state, "Succeeded", JSON.stringify(drill.error));
    assert.equal(path.dirname((drill.result as DrillReport).machine.dir), path.join(root, "recovery"));
    assert.equal((await engine.drillCleanup("n-web")).state, "Succeeded");
    ok(await nested("destroy"));
  });

  it("destroying a Vault revokes its registration key: an agent can no longer register with it", async () => {
    await engine.addSite({ name: "edge", kind: "physical" });
    const register = async (registrationKey: string) => {
      const res = await fetch(new URL("/v1/agents/register", daemon.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ host: "edge01", site: "edge", registrationKey }),
      });
      return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
    };
    const up = ok(await run("up", { declare: "vault" }, "vault"));
    const key = outputsOf(up, "the-vault").registrationKey as string;
    assert.match(key, /^\S{20,}$/);
    const destroyed = ok(await run("destroy", {}, "vault"));
    assert.match(
      destroyed.output,
      /info: lifeboat: the vault .* left the stack: its registration key is revoked/,
      "the provider says what the delete did, and that the data stays",
    );
    assert.match(destroyed.output, /stays/);
    const refused = await register(key);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.match(refused.body.error!.message, /revoked/);
    assert.deepEqual((await engine.listSites()).find((s) => s.name === "edge")?.hosts, [], "a refused agent adds no host");
    assert.ok(fs.existsSync(path.join(vaultDir, "vault.json")), "the vault and its data stay");
  });

  describe("a ProtectedItem's disks", () => {
    const original = () => path.join(root, "disks", "app.img");
    const moved = () => path.join(root, "moved", "app.img");
    const app = () => ({ declare: "db", dbName: "app", dbPath: original() });
    const jobsOf = async (item: string) => (await engine.jobs({ target: item, limit: 1000 })).map((j) => ({ id: j.id, type: j.type, state: j.state }));
    let drillMachine: string;
    let drillDir: string;

    before(async () => {
      ok(await run("up", app(), "disks"));
      for (let i = 1; i < 5; i++) {
        await overwriteBlocks(original(), i, i + 1);
        assert.equal((await engine.replicateNow("app")).state, "Succeeded");
      }
      const drill = await engine.drill("app");
      assert.equal(drill.state, "Succeeded", JSON.stringify(drill.error));
      ({ name: drillMachine, dir: drillDir } = (drill.result as DrillReport).machine);
    });

    it("a new path is a move in place: the same points, no new initial replication, the drill still there, and the next cycle reads the new path", async () => {
      const points = await pointIds("app");
      assert.equal(points.length, 5);
      const jobsBefore = await jobsOf("app");
      fs.mkdirSync(path.dirname(moved()));
      fs.copyFileSync(original(), moved());

      const preview = ok(await run("preview", { ...app(), dbPath: moved() }, "disks"));
      assert.equal(ops(preview).dbcopy, "update", preview.output);
      const up = ok(await run("up", { ...app(), dbPath: moved() }, "disks"));
      assert.equal(ops(up).dbcopy, "update");
      const item = await engine.item("app");
      assert.deepEqual(
        item.disks.map((d) => [d.name, d.path]),
        [["os", moved()]],
      );
      assert.equal(item.state, "Protected");
      assert.deepEqual(await pointIds("app"), points, "every point is kept");
      const since = (await jobsOf("app")).filter((j) => !jobsBefore.some((b) => b.id === j.id));
      assert.deepEqual(
        since.filter((j) => j.type !== "Replicate"),
        [],
        "no protection, unprotection or drill cleanup ran",
      );
      const drills = (await jobsOf("app")).filter((j) => j.type.startsWith("TestFailover"));
      assert.equal(drills[0].type, "TestFailover", "the drill is not cleaned up");
      assert.ok(fs.existsSync(drillDir), "the drill machine's disks are still there");

      await overwriteBlocks(moved(), 7, 8);
      assert.equal((await engine.replicateNow("app")).state, "Succeeded");
      assert.equal((await engine.points("app")).length, 6, "the next cycle adds a point from the moved disk");
      assert.deepEqual(ops(ok(await run("up", { ...app(), dbPath: moved() }, "disks"))), { dbcopy: "same" });
    });

    it("a disk rename replaces the machine, and its preview says what that deletes: the real points and the drill", async () => {
      const points = await pointIds("app");
      const preview = ok(await run("preview", { ...app(), dbPath: moved(), dbDisk: "system" }, "disks"));
      assert.equal(ops(preview).dbcopy, "replace");
      const change = (stepOf(preview, "dbcopy").changes ?? []).find((c) => c.key === "replaceImpact");
      assert.ok(change, `the preview shows a replaceImpact:\n${preview.output}`);
      assert.deepEqual(change.new, {
        known: true,
        points: points.length,
        drill: drillMachine,
        summary: `replacing app (disks changed) deletes its ${points.length} recovery points and drill '${drillMachine}'; the new machine starts with a full initial replication`,
      });
      assert.ok(preview.output.includes("+ replaceImpact: "), preview.output);
      assert.deepEqual(await pointIds("app"), points, "a preview changes nothing");

      assert.equal((await engine.drillCleanup("app")).state, "Succeeded");
      ok(await run("up", { declare: "" }, "disks"));
      assert.equal(
        (await engine.status()).items.some((i) => i.name === "app"),
        false,
      );
    });
  });

  describe("adoption", () => {
    it("adopt: true takes silver and db over, updating what differs and keeping db's points; what adoption cannot change fails and records nothing; removal then deletes them", async () => {
      await engine.removePlan("shop");
      const points = await pointIds("db");
      const protections = (await engine.jobs({ target: "db", limit: 1000 })).filter((j) => j.type === "EnableProtection").length;

      // A disk that differs is not the same machine: adoption refuses it and takes nothing over.
      const before = await inventory();
      for (const config of [{ dbDisk: "system" }, { dbPath: path.join(root, "disks", "app.img") }] as Array<Record<string, string>>) {
        const refused = await run("up", { declare: "db", adopt: "true", ...config }, "adopt");
        assert.equal(refused.ok, false, refused.output);
        assert.match(refused.errors[0], /^dbcopy .*create failed: cannot adopt ProtectedItem 'db': disks: the engine has /);
        assert.deepEqual(lifeboatResources(refused), []);
      }
      assert.deepEqual(await inventory(), before, "a refused adoption changes nothing");

      const adopted = ok(await run("up", { declare: "silver,db", adopt: "true", retentionHours: "12", group: "tier1" }, "adopt"));
      assert.deepEqual(ops(adopted), { x: "create", dbcopy: "create" });
      assert.equal((await engine.getPolicy("silver")).retentionHours, 12, "the declared setting is applied");
      const db = await engine.item("db");
      assert.equal(db.group, "tier1");
      assert.equal(db.state, "Protected");
      assert.deepEqual(await pointIds("db"), points, "adoption keeps the points");
      assert.equal((await engine.jobs({ target: "db", limit: 1000 })).filter((j) => j.type === "EnableProtection").length, protections, "no new protection");
      assert.equal(adopted.state.resources.find((r) => r.name === "dbcopy")?.id, "db");
      assert.equal(outputsOf(adopted, "dbcopy").protectionState, "Protected");
      assert.deepEqual(ops(ok(await run("up", { declare: "silver,db", adopt: "true", retentionHours: "12", group: "tier1" }, "adopt"))), {
        x: "same",
        dbcopy: "same",
      });

      const removed = ok(await run("up", { declare: "" }, "adopt"));
      assert.deepEqual(ops(removed), { x: "delete", dbcopy: "delete" });
      assert.equal(
        (await engine.status()).items.some((i) => i.name === "db"),
        false,
        "the adopted machine is the stack's: removal unprotects it",
      );
      assert.equal(
        (await engine.listPolicies()).some((p) => p.name === "silver"),
        false,
      );
    });
  });
});

describe("Pulumi provider safety: a failed create with the engine out of the check's reach (embedded default)", function () {
  this.timeout(300_000);
  const root = tempDir("safety-embedded-");
  const vaultDir = path.join(root, "vault");
  const run = harness(SAFETY, tempDir("safety-embedded-state-"), { root });
  const cli = vaultCli(() => vaultDir);
  const saved = { endpoint: process.env.LIFEBOAT_ENDPOINT, token: process.env.LIFEBOAT_TOKEN };
  const pointIds = async (item: string) => ((await cli.ok("points", item, "--json")).json() as Array<{ id: string }>).map((p) => p.id);
  /** The daemon the provider started for the vault, stopped so that the next check cannot reach the engine. */
  const stopDaemon = async () => {
    const pid = embeddedDaemonPid(vaultDir);
    if (pid) await stopProcess(pid);
  };

  before(async () => {
    delete process.env.LIFEBOAT_ENDPOINT;
    delete process.env.LIFEBOAT_TOKEN;
    fs.mkdirSync(path.join(root, "disks"));
    await makeDisk(path.join(root, "disks", "db.img"), 16);
    const { engine } = await Engine.init(vaultDir);
    try {
      await seed(engine, root, 10);
    } finally {
      await engine.close();
    }
  });
  // After each test, while the vault (and the daemon's record in it) still exists: the suite's temporary
  // directory is removed by an earlier-registered `after` hook, which would leave the daemon running.
  afterEach(stopDaemon);
  after(() => {
    Object.assign(
      process.env,
      Object.fromEntries(Object.entries({ LIFEBOAT_ENDPOINT: saved.endpoint, LIFEBOAT_TOKEN: saved.token }).filter(([, v]) => v !== undefined)),
    );
  });

  for (const [object, logical] of [
    ["silver", "x"],
    ["db", "dbcopy"],
  ]) {
    it(`a create that fails because '${object}' exists records nothing, and removing the declaration leaves the engine's '${object}' alone`, async () => {
      await stopDaemon();
      const points = await pointIds("db");
      assert.equal(points.length, 10);
      const failed = await run("up", { declare: object });
      assert.equal(failed.ok, false, failed.output);
      assert.match(failed.errors[0], new RegExp(`^${logical} .*create failed: .*'${object}' already exists`), failed.errors[0]);
      assert.deepEqual(lifeboatResources(failed), [], "the stack does not hold an object its create did not make");

      ok(await run("up", { declare: "" }));
      assert.ok(
        (await cli.ok("policy", "list", "--json")).json().some((p: { name: string }) => p.name === "silver"),
        "silver is still there",
      );
      assert.deepEqual(await pointIds("db"), points, "db is still protected, with every point");
    });
  }
});
