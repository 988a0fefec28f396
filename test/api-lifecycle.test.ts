import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../engine/server/app";
import { EngineClient } from "../client/engine-client";
import { FailoverImpact } from "../schema";
import { makeDisk, randomWrites, recoveryVault, tempDir } from "./helpers";

type Vault = Awaited<ReturnType<typeof recoveryVault>>;

/** What a refused call threw: its code (or InvalidInput) and the field or failing properties it named. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; field: string | undefined; properties: string[]; message: string }> {
  const error = await call.then(
    () => assert.fail("the call was not refused"),
    (e) => e as { code: string; field?: string; failures?: Array<{ property: string }>; message: string },
  );
  return { code: error.code, field: error.field, properties: error.failures?.map((f) => f.property) ?? [], message: error.message };
}

/**
 * The lifecycle half of the engine API (what a Pulumi provider needs besides create): updates, removals,
 * disabling protection, plan replacement, item checks and failover previews, each through a real daemon
 * on loopback and the engine client, with refusals that change nothing.
 */
describe("engine API: updates, removals, previews", () => {
  let v: Vault;
  let dir: string;
  let app: FastifyInstance;
  let api: EngineClient;
  let endpoint: string;
  let token: string;
  /** The HTTP status of a bodiless call, for the refusals whose status the contract names. */
  const status = async (method: string, url: string) => (await fetch(new URL(url, endpoint), { method, headers: { authorization: `Bearer ${token}` } })).status;
  const disk = (name: string) => path.join(dir, `${name}.img`);
  const protect = async (name: string, extra: Record<string, unknown> = {}) => {
    await makeDisk(disk(name), 8);
    const job = await api.protect({
      name,
      site: "hq",
      host: "host1",
      policy: "gold",
      disks: [{ name: "os", path: disk(name), os: true }],
      recovery: { site: "dr", network: "dr-net" },
      ...extra,
    });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  };
  const sync = async (name: string) => {
    v.clock.advance(30_000);
    await randomWrites(disk(name), 3);
    const job = await api.replicateNow(name);
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  };
  /** Everything a refused or read-only call must leave as it was. */
  const snapshot = async () => ({
    status: await api.status(),
    sites: await api.listSites(),
    policies: await api.listPolicies(),
    plans: await api.listPlans(),
    networks: await api.listNetworks(),
    mappings: await api.listNetworkMappings(),
    jobs: (await api.jobs({ limit: 1000 })).map((j) => `${j.id} ${j.state}`),
  });
  const unchanged = async (before: Awaited<ReturnType<typeof snapshot>>) => {
    const after = await snapshot();
    // RPO readings move with the clock only; everything else must be identical.
    assert.deepEqual(
      { ...after, status: after.status.items.map((i) => ({ ...i, rpoSeconds: 0 })) },
      { ...before, status: before.status.items.map((i) => ({ ...i, rpoSeconds: 0 })) },
    );
  };

  before(async () => {
    dir = tempDir();
    v = await recoveryVault(dir);
    app = buildServer(v.engine);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as { port: number };
    endpoint = `http://127.0.0.1:${port}`;
    token = await v.engine.createToken("ops");
    api = new EngineClient(endpoint, token, { pollMs: 20 });
    await protect("web", { hooks: { shutdown: "true" } });
    await protect("db");
  });
  after(() => app.close());

  it("vault info: directory, creation time, registration key state", async () => {
    const info = await api.vaultInfo();
    assert.equal(info.dir, v.engine.vault.dir);
    assert.equal(info.createdAt, new Date(Date.UTC(2026, 0, 1, 12)).toISOString());
    assert.equal(info.registrationKey.expiresAt, new Date(Date.UTC(2026, 0, 6, 12)).toISOString());
    assert.equal(info.registrationKey.revokedAt, null);
  });

  it("sites: hosts replaced in place; removing a used host or a used site is refused naming the users", async () => {
    assert.deepEqual((await api.updateSite("hq", { hosts: ["host1", "host2", "host3"] })).hosts, ["host1", "host2", "host3"]);
    assert.deepEqual((await api.updateSite("hq", { hosts: ["host1", "host3"] })).hosts, ["host1", "host3"]);
    const before = await snapshot();
    const usedHost = await refusal(api.updateSite("hq", { hosts: ["host3"] }));
    assert.equal(usedHost.code, "HostInUse");
    assert.match(usedHost.message, /host1.*'db' on host1.*'web' on host1/);
    assert.deepEqual((await refusal(api.updateSite("hq", { path: path.join(dir, "x") }))).properties, ["path"], "only recovery sites have a directory");
    assert.deepEqual((await refusal(api.updateSite("hq", { hosts: ["a", "a"] }))).properties, ["hosts"]);
    const usedSite = await refusal(api.removeSite("hq"));
    assert.equal(usedSite.code, "SiteInUse");
    assert.match(usedSite.message, /item 'db', item 'web'/);
    const recovery = await refusal(api.removeSite("dr"));
    assert.equal(recovery.code, "SiteInUse");
    assert.match(recovery.message, /item 'db' \(recovery site\).*network 'dr-net'/);
    assert.equal((await refusal(api.removeSite("nowhere"))).code, "NotFound");
    assert.deepEqual([await status("DELETE", "/v1/sites/hq"), await status("DELETE", "/v1/sites/nowhere")], [409, 404]);
    await unchanged(before);

    await api.addSite({ name: "branch", kind: "physical", hosts: ["b1"] });
    assert.deepEqual(await api.removeSite("branch"), { deleted: "branch" });
    assert.deepEqual(
      (await api.listSites()).map((s) => s.name),
      ["dr", "hq"],
    );
    const dr2 = path.join(dir, "dr2");
    assert.equal((await api.updateSite("dr", { path: dr2 })).path, dr2);
    assert.deepEqual((await refusal(api.updateSite("dr", { path: "/etc" }))).properties, ["path"], "outside the daemon's allowed directories");
  });

  it("policies: removal takes the failback policy along; refused while items use it", async () => {
    const before = await snapshot();
    const used = await refusal(api.removePolicy("gold"));
    assert.equal(used.code, "PolicyInUse");
    assert.match(used.message, /item 'db', item 'web'/);
    assert.equal((await refusal(api.removePolicy("gold-failback"))).code, "Conflict");
    assert.equal(await status("DELETE", "/v1/policies/gold"), 409);
    await unchanged(before);
    await api.addPolicy({ name: "silver" });
    assert.deepEqual(await api.removePolicy("silver"), { deleted: "silver" });
    assert.deepEqual(
      (await api.listPolicies()).map((p) => p.name),
      ["gold", "gold-failback"],
    );
  });

  it("networks and mappings: a mapped or used network is kept; removal in dependency order works", async () => {
    await api.addNetwork({ name: "spare", site: "dr", subnets: ["10.9.0.0/24"] });
    await api.addNetworkMapping({ source: "lab", target: "spare" });
    const before = await snapshot();
    const mapped = await refusal(api.removeNetwork("spare"));
    assert.equal(mapped.code, "NetworkInUse");
    assert.match(mapped.message, /network mapping 'lab'/);
    assert.match((await refusal(api.removeNetwork("dr-net"))).message, /network mapping 'corp'.*item 'db' \(recovery network\)/);
    assert.equal((await refusal(api.removeNetworkMapping("nothing"))).code, "NotFound");
    assert.equal(await status("DELETE", "/v1/networks/spare"), 409);
    await unchanged(before);
    assert.deepEqual(await api.removeNetworkMapping("lab"), { deleted: "lab" });
    assert.deepEqual(await api.removeNetwork("spare"), { deleted: "spare" });
    assert.deepEqual(
      (await api.listNetworks()).map((n) => n.name),
      ["dr-net"],
    );
  });

  it("items: settings change in place; bad changes are refused naming the field, changing nothing", async () => {
    await api.addPolicy({ name: "bronze", copyFrequency: "15m" });
    const updated = await api.updateItem("db", { policy: "bronze", hooks: { quiesce: "true", unquiesce: "true" }, group: "tier" });
    assert.equal(updated.policy, "bronze");
    assert.equal(updated.group, "tier");
    assert.deepEqual(updated.hooks.sort(), ["quiesce", "unquiesce"]);
    assert.equal((await api.updateItem("db", { group: null })).group, null);
    const before = await snapshot();
    assert.deepEqual((await refusal(api.updateItem("db", { policy: "nope", excludedDisks: ["os"] }))).properties, ["policy", "excludedDisks.0"]);
    assert.deepEqual((await refusal(api.updateItem("db", { hooks: { pause: "true" } }))).properties, ["hooks.resume"]);
    assert.deepEqual((await refusal(api.updateItem("db", { diskPaths: { os: path.join(dir, "gone.img") } }))).properties, ["diskPaths.os"]);
    assert.deepEqual((await refusal(api.updateItem("db", { recovery: { site: "hq" } }))).properties, ["recovery.site"]);
    assert.deepEqual((await refusal(api.updateItem("db", { colour: "red" }))).properties, ["colour"], "an unknown key is named");
    assert.equal((await refusal(api.updateItem("ghost", { policy: "gold" }))).code, "NotFound");
    await unchanged(before);
    assert.equal((await api.moveItem("db", { host: "host3" })).host, "host3", "moveItem still works, as an update of the host");
  });

  it("item check: schema and disk failures, not references; writes nothing", async () => {
    await v.engine.registerAgent({ host: "agent-host", site: "hq", registrationKey: v.registrationKey });
    const before = await snapshot();
    const spec = {
      name: "new",
      site: "later-site",
      policy: "later-policy",
      disks: [
        { name: "os", path: path.join(dir, "missing.img"), os: true },
        { name: "d", path: dir },
      ],
    };
    const { failures } = await api.checkItem(spec);
    assert.deepEqual(
      failures.map((f) => f.property),
      ["disks.0.path", "disks.1.path"],
    );
    assert.match(failures[0].reason, /missing\.img does not exist/);
    assert.match(failures[1].reason, /neither a regular file nor a block device/);
    assert.deepEqual(
      (await api.checkItem({ ...spec, disks: [{ name: "os", path: disk("web"), os: true }] })).failures,
      [],
      "unknown site and policy are not its business",
    );
    assert.deepEqual(
      (await api.checkItem({ ...spec, disks: [{ name: "os", path: "/etc/hostname", os: true }] })).failures.map((f) => f.property),
      ["disks.0.path"],
      "outside the allowed directories",
    );
    assert.deepEqual(
      (await api.checkItem({ ...spec, name: "bad name!" })).failures.map((f) => f.property),
      ["name", "disks.0.path", "disks.1.path"],
      "schema and disk failures together",
    );
    assert.deepEqual((await api.checkItem({ ...spec, site: "hq", host: "agent-host" })).failures, [], "an agent's disks are the agent's to check");
    await unchanged(before);
  });

  it("plans: replaced with the order kept exactly; removed", async () => {
    const action = (name: string) => ({ name, kind: "script", command: "true" });
    await api.addPlan({ name: "dr-plan", groups: [{ items: ["web"] }, { items: ["db"] }] });
    const spec = {
      name: "dr-plan",
      groups: [
        { items: ["db"], before: [action("z"), action("a")] },
        { items: ["web"], after: [action("m"), action("b")] },
      ],
    };
    const replaced = await api.replacePlan("dr-plan", spec);
    assert.deepEqual(await api.getPlan("dr-plan"), replaced);
    assert.deepEqual(
      replaced.groups.map((g) => g.items[0]),
      ["db", "web"],
    );
    assert.deepEqual(
      replaced.groups[0].before.map((a) => a.name),
      ["z", "a"],
    );
    assert.deepEqual(
      replaced.groups[1].after.map((a) => a.name),
      ["m", "b"],
    );
    const before = await snapshot();
    assert.deepEqual((await refusal(api.replacePlan("dr-plan", { ...spec, name: "other" }))).properties, ["name"]);
    assert.deepEqual((await refusal(api.replacePlan("dr-plan", { name: "dr-plan", groups: [{ items: ["ghost"] }] }))).properties, ["groups.0.items.0"]);
    assert.equal((await refusal(api.replacePlan("no-plan", { ...spec, name: "no-plan" }))).code, "NotFound");
    await unchanged(before);
    await api.addPlan({ name: "old", groups: [{ items: ["web"] }] });
    assert.deepEqual(await api.removePlan("old"), { deleted: "old" });
    assert.equal((await refusal(api.getPlan("old"))).code, "NotFound");
  });

  it("failover preview: the point the failover then uses, expected loss; planned loses nothing; changes nothing", async () => {
    await sync("web");
    await sync("web");
    v.clock.advance(90_000);
    const before = await snapshot();
    const latest = (await api.points("web")).at(-1)!;
    const unplanned = FailoverImpact.parse(await api.failoverPreview("web", { type: "unplanned", point: "latest-processed" }));
    assert.equal(unplanned.direction, "primary-to-recovery");
    const [impact] = unplanned.groups[0].items;
    assert.deepEqual(impact.point, { id: latest.id, capturedAt: latest.capturedAt, appConsistent: false, multiVm: false });
    assert.equal(impact.expectedDataLossSeconds, 90);
    assert.equal(impact.refusal, undefined);
    const latestOption = (await api.failoverPreview("web", { type: "unplanned" })).groups[0].items[0];
    assert.equal(latestOption.point, null, "'latest' captures at failover");
    assert.equal(latestOption.expectedDataLossSeconds, 0, "the capture at failover holds everything the source has");
    assert.deepEqual(latestOption.ifSourceDown, { point: impact.point, dataLossSeconds: 90 }, "without the source: the latest point, and what came in since");
    const planned = (await api.failoverPreview("web", { type: "planned" })).groups[0].items[0];
    assert.deepEqual([planned.point, planned.pointOption, planned.expectedDataLossSeconds, planned.refusal], [null, "final sync at shutdown", 0, undefined]);
    const noShutdown = (await api.failoverPreview("db", { type: "planned" })).groups[0].items[0];
    assert.match(noShutdown.refusal!, /shutdown command/);
    const planPreview = FailoverImpact.parse(await api.planPreview("dr-plan", { type: "unplanned", point: "latest-processed" }));
    assert.deepEqual(
      planPreview.groups.map((g) => [g.order, g.items.map((i) => i.item)]),
      [
        [1, ["db"]],
        [2, ["web"]],
      ],
    );
    assert.equal(planPreview.groups[1].items[0].point!.id, latest.id);
    assert.equal((await refusal(api.failoverPreview("ghost", { type: "unplanned" }))).code, "NotFound");
    assert.equal((await refusal(api.planPreview("ghost", { type: "unplanned" }))).code, "NotFound");
    assert.deepEqual((await refusal(api.failoverPreview("web", { type: "sideways" }))).properties, ["type"]);
    await unchanged(before);

    const job = await api.failover("web", { type: "unplanned", point: "latest-processed" });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.equal((job.result as { point: { id: string } }).point.id, impact.point!.id, "the failover used the point the preview named");

    // Failed over: the default direction is back, refused until reprotected; a plan run shows the same.
    const back = await api.failoverPreview("web", { type: "planned" });
    assert.equal(back.direction, "recovery-to-primary");
    assert.deepEqual([back.groups[0].items[0].activeSite, back.groups[0].items[0].point], ["recovery", null]);
    assert.match(back.groups[0].items[0].refusal!, /not replicating back/);
    const mixed = await api.planPreview("dr-plan", { type: "planned" });
    assert.ok(
      mixed.groups.every((g) => g.items.every((i) => /active at the recovery site and some at the primary/.test(i.refusal!))),
      JSON.stringify(mixed),
    );
  });

  it("items: changes a failover does not allow, and unprotect while failed over, are refused (409) changing nothing", async () => {
    const before = await snapshot();
    const placement = await refusal(api.updateItem("web", { recovery: { site: "dr" } }));
    assert.deepEqual([placement.code, placement.field], ["Conflict", "recovery"]);
    assert.deepEqual((await refusal(api.updateItem("web", { host: "host3" }))).field, "host");
    const unprotect = await refusal(api.unprotect("web"));
    assert.equal(unprotect.code, "Conflict");
    assert.match(unprotect.message, /commit the failover and fail it back first/);
    assert.equal(await status("DELETE", "/v1/items/web"), 409);
    await unchanged(before);
    assert.equal((await api.updateItem("web", { policy: "bronze" })).policy, "bronze", "the policy may change at any time");
  });

  it("unprotect removes the item, its points and state; the next retention frees the space; the name is free again", async () => {
    await api.addPolicy({ name: "later", initialReplicationStart: new Date(v.clock.now() + 3_600_000).toISOString() });
    await makeDisk(disk("idle"), 4);
    await api.protect({ name: "idle", site: "hq", policy: "later", disks: [{ name: "os", path: disk("idle"), os: true }], recovery: { site: "dr" } });
    const pending = (await api.failoverPreview("idle", { type: "unplanned", point: "latest-processed" })).groups[0].items[0];
    assert.match(pending.refusal!, /not protected yet/, "an unprotected item is refused in the preview");

    await sync("db");
    const drill = await api.drill("db");
    assert.equal(drill.state, "Succeeded", JSON.stringify(drill.error));
    const drillDir = (drill.result as { machine: { dir: string } }).machine.dir;
    assert.ok(existsSync(drillDir));
    assert.deepEqual((await refusal(api.updateItem("db", { recovery: null }))).field, "recovery", "a running drill keeps its recovery settings");
    const stored = (await api.status()).vault.store;
    const points = (await api.points("db")).length;
    assert.ok(points >= 2);
    const job = await api.unprotect("db");
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.equal(job.type, "DisableProtection");
    assert.deepEqual(job.result, { item: "db", pointsDeleted: points, drillRemoved: true });
    assert.ok(!existsSync(drillDir), "its drill machine is gone");
    assert.equal((await refusal(api.item("db"))).code, "NotFound");
    assert.equal((await refusal(api.unprotect("db"))).code, "NotFound");
    const retention = await api.applyRetention();
    assert.ok((retention.result as { blocksDeleted: number }).blocksDeleted > 0, JSON.stringify(retention.result));
    assert.ok((await api.status()).vault.store.storedBytes < stored.storedBytes, "the space its blocks took is given back");
    await protect("db");
    assert.equal((await api.item("db")).state, "Protected");
  });

  it("preview of a migrated machine: failback is refused", async () => {
    assert.equal((await api.commit("web")).state, "Succeeded");
    assert.equal((await api.completeMigration("web")).state, "Succeeded");
    const impact = (await api.failoverPreview("web", { type: "planned", direction: "recovery-to-primary" })).groups[0].items[0];
    assert.match(impact.refusal!, /migrated; failback is refused/);
    const job = await api.unprotect("web");
    assert.equal(job.state, "Succeeded", "a migrated machine can be forgotten");
  });
});
