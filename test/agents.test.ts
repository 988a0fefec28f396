import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../engine/server/app";
import { Agent } from "../agent/agent";
import { AgentLink } from "../agent/link";
import { DAY, MINUTE } from "../engine";
import { SILENCE_MS } from "../engine/inventory/hosts";
import { makeDisk, newVault, overwriteBlocks, tempDir } from "./helpers";

type Vault = Awaited<ReturnType<typeof newVault>>;

/** A vault on a manual clock served on 127.0.0.1, with in-process agents talking to it over HTTP. */
async function served(dir: string): Promise<
  Vault & {
    app: FastifyInstance;
    endpoint: string;
    admin: string;
    call: (method: string, url: string, body?: unknown, token?: string | null) => Promise<{ status: number; body: any }>;
  }
> {
  const vault = await newVault(dir);
  const app = buildServer(vault.engine);
  const endpoint = await app.listen({ host: "127.0.0.1", port: 0 });
  after(() => app.close());
  const admin = await vault.engine.createToken("ops");
  const call = async (method: string, url: string, body?: unknown, token: string | null = admin) => {
    const res = await fetch(new URL(url, endpoint), {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return { ...vault, app, endpoint, admin, call };
}

describe("agents on source hosts", () => {
  it("register only with a valid registration key: wrong, expired and revoked keys get 401 and change nothing", async () => {
    const dir = tempDir();
    const v = await served(dir);
    const register = (key: string, host = "host2") => v.call("POST", "/v1/agents/register", { host, site: "hq", registrationKey: key }, null);
    const sitesBefore = await v.engine.listSites();

    const wrong = await register("not-the-key");
    assert.equal(wrong.status, 401);
    assert.deepEqual({ code: wrong.body.error.code, field: wrong.body.error.field }, { code: "Unauthorized", field: "registrationKey" });
    assert.deepEqual(await v.engine.listSites(), sitesBefore, "a refused agent adds no host");
    assert.equal((await v.engine.vault.db.selectFrom("tokens").select("id").where("role", "=", "agent").execute()).length, 0, "nor a token");
    const bad = await v.call("POST", "/v1/agents/register", { host: "../x", registrationKey: "" }, null);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.failures.map((f: { property: string }) => f.property).sort(), ["host", "registrationKey"]);

    const ok = await register(v.registrationKey);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.site, "hq");
    assert.match(ok.body.token, /^lbt_/);
    assert.equal(ok.body.storeDir, path.join(dir, "vault", "store"));
    assert.deepEqual((await v.engine.listSites())[0].hosts, ["host1", "host2"]);
    // Its token is the agent's own, for its host only, and kept hashed.
    const stored = await v.engine.vault.db.selectFrom("tokens").selectAll().where("host", "=", "host2").execute();
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0].sha256, ok.body.token);
    assert.equal((await v.call("POST", "/v1/agents/host2/heartbeat", {}, ok.body.token)).status, 200);
    assert.equal((await v.call("POST", "/v1/agents/host1/heartbeat", {}, ok.body.token)).status, 403, "another host's routes");
    assert.equal((await v.call("GET", "/v1/status", undefined, ok.body.token)).status, 403, "admin routes");
    assert.equal((await v.call("POST", "/v1/agents/host2/heartbeat", {}, v.admin)).status, 403, "an admin is not the agent");
    assert.equal((await v.call("POST", "/v1/agents/host2/heartbeat", {}, "lbt_forged")).status, 401);

    // Registering again replaces the agent's token.
    const again = await register(v.registrationKey);
    assert.equal((await v.call("POST", "/v1/agents/host2/heartbeat", {}, ok.body.token)).status, 401, "the old token stops working");
    assert.equal((await v.call("POST", "/v1/agents/host2/heartbeat", {}, again.body.token)).status, 200);

    v.clock.advance(5 * DAY);
    const expired = await register(v.registrationKey, "host3");
    assert.equal(expired.status, 401);
    assert.match(expired.body.error.message, /expired/);
    const fresh = await v.engine.rotateRegistrationKey();
    assert.equal((await register(fresh, "host3")).status, 201);
    assert.equal((await v.call("POST", "/v1/registration-key/revoke", {})).status, 200);
    const revoked = await register(fresh, "host4");
    assert.equal(revoked.status, 401);
    assert.match(revoked.body.error.message, /revoked/);
    assert.ok((await v.engine.status()).vault.registrationKey.revokedAt);
    assert.deepEqual((await v.engine.listSites())[0].hosts, ["host1", "host2", "host3"]);
  });

  /** A served vault, a registered in-process agent for each host, and a machine "vm" protected on the first. */
  async function withAgents(hosts: string[]) {
    const dir = tempDir();
    const v = await served(dir);
    const agents = new Map<string, Agent>();
    for (const host of hosts) {
      agents.set(
        host,
        await Agent.start({ engine: v.endpoint, host, site: "hq", registrationKey: v.registrationKey, workDir: path.join(dir, `agent-${host}`) }),
      );
    }
    const disk = path.join(dir, "os.img");
    await makeDisk(disk, 64);
    const protect = await v.engine.protect({ name: "vm", site: "hq", host: hosts[0], policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
    assert.equal(protect.state, "Suspended");
    await agents.get(hosts[0])!.once();
    const enabled = await v.engine.job(protect.id);
    assert.equal(enabled.state, "Succeeded", JSON.stringify(enabled));
    return { ...v, dir, disk, agents };
  }

  it("a silent host turns its machines' health Warning, then Critical past the RPO threshold; calling in again heals it", async () => {
    const v = await withAgents(["host2"]);
    const health = async () => {
      const s = await v.engine.item("vm");
      return { health: s.health, codes: s.healthErrors.map((e) => e.code) };
    };
    assert.deepEqual(await health(), { health: "Normal", codes: [] });
    v.clock.advance(SILENCE_MS + 1000);
    assert.deepEqual(await health(), { health: "Warning", codes: ["AgentSilent"] });
    assert.equal((await v.engine.item("vm")).agent?.silent, true);
    v.clock.advance(30 * MINUTE);
    assert.deepEqual(await health(), { health: "Critical", codes: ["RpoThresholdExceeded", "AgentSilent"] });
    assert.match((await v.engine.item("vm")).healthErrors[1].message, /host2 has not called in since .*RPO is past its threshold/);
    const metrics = await fetch(new URL("/metrics", v.endpoint), { headers: { authorization: `Bearer ${v.admin}` } }).then((r) => r.text());
    assert.match(metrics, /lifeboat_item_health\{item="vm",health="Critical"\} 1/);
    await v.agents.get("host2")!.once(); // calls in; the cycle is long overdue, so it replicates too
    assert.deepEqual(await health(), { health: "Normal", codes: [] });
    assert.equal((await v.engine.points("vm")).length, 2);
  });

  it("a machine moved to another host keeps replicating from its state: a delta, no new initial replication", async () => {
    const v = await withAgents(["host2", "host3"]);
    await overwriteBlocks(v.disk, 10, 12);
    const moved = await v.call("PATCH", "/v1/items/vm", { host: "host3" });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.host, "host3");
    v.clock.advance(31_000); // the agent stamps captures with the engine's clock as it measured it: a few ms late
    await v.agents.get("host2")!.once();
    assert.equal((await v.engine.points("vm")).length, 1, "the old host's agent gets no more work for it");
    await v.agents.get("host3")!.once();
    const points = await v.engine.points("vm");
    assert.equal(points.length, 2);
    const delta = points[1];
    assert.equal(delta.blocksChanged, 2, "only the two blocks written since");
    assert.ok(delta.bytesStored <= 2 * 65536 + 1024, `stored ${delta.bytesStored} bytes`);
    assert.deepEqual(
      (await v.engine.jobs({ target: "vm" })).map((j) => j.type),
      ["EnableProtection"],
      "no second initial replication",
    );
    const out = path.join(v.dir, "out");
    assert.equal((await v.engine.materialize("vm", "latest", out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(v.disk)));

    // The old host's agent can no longer report for it; bad moves are refused with the field.
    const late = await new AgentLink(v.endpoint, JSON.parse(await fs.readFile(path.join(v.dir, "agent-host2", "agent.json"), "utf8")))
      .window({
        mode: "delta",
        capturedAt: v.clock.now(),
        appConsistent: false,
        durationMs: 0,
        blocks: [],
        items: [
          {
            item: "vm",
            disks: [{ disk: "os", baseVersion: 2, size: 64 * 65536, indexes: "", ids: "", hashes: "" }],
            bytesRead: 0,
            blocksChanged: 0,
            bytesStored: 0,
            repaired: [],
          },
        ],
      })
      .catch((e) => e);
    assert.equal(late.code, "Forbidden");
    const badMove = await v.call("PATCH", "/v1/items/vm", { host: "nowhere", diskPaths: { data: "/x" } });
    assert.equal(badMove.status, 400);
    assert.deepEqual(
      badMove.body.error.failures.map((f: { property: string }) => f.property),
      ["host", "diskPaths.data"],
    );
    assert.equal((await v.engine.item("vm")).host, "host3");
  });

  it("refuses reports that do not fit the vault, changing nothing: a stale state, missing blocks, a pack that is not there", async () => {
    const v = await withAgents(["host2"]);
    const link = new AgentLink(v.endpoint, JSON.parse(await fs.readFile(path.join(v.dir, "agent-host2", "agent.json"), "utf8")));
    const disk = await v.engine.vault.db.selectFrom("disks").selectAll().executeTakeFirstOrThrow();
    const id = "ab".repeat(32);
    const report = (
      changes: Partial<{ baseVersion: number; indexes: string; ids: string; hashes: string }>,
      blocks: Array<{ id: string; pack: string; offset: number; length: number }> = [],
    ) => ({
      mode: "delta" as const,
      capturedAt: v.clock.now(),
      appConsistent: false,
      durationMs: 1,
      blocks,
      items: [
        {
          item: "vm",
          disks: [
            {
              disk: "os",
              baseVersion: disk.state_version,
              size: 64 * 65536,
              indexes: Buffer.from(new Uint32Array([5]).buffer).toString("base64"),
              ids: Buffer.from(id, "hex").toString("base64"),
              hashes: Buffer.alloc(8, 1).toString("base64"),
              ...changes,
            },
          ],
          bytesRead: 0,
          blocksChanged: 1,
          bytesStored: 0,
          repaired: [],
        },
      ],
    });
    const refused = async (body: unknown) =>
      link.window(body as Parameters<AgentLink["window"]>[0]).then(
        () => ({ code: "accepted", field: undefined }),
        (e) => ({ code: e.code, field: e.failures?.[0]?.property ?? e.field }),
      );
    const blocksBefore = (await v.engine.status()).vault.store.blocks;
    assert.deepEqual(await refused(report({ baseVersion: disk.state_version - 1 })), { code: "Conflict", field: "items.0.disks.0" });
    assert.deepEqual(await refused(report({})), { code: "BlockMissing", field: "blocks" });
    const ghost = { id, pack: `packs/ab/${"0".repeat(32)}.pack`, offset: 0, length: 100 };
    assert.deepEqual(await refused(report({}, [ghost])), { code: "InvalidInput", field: "blocks" });
    assert.deepEqual(await refused(report({ ids: "" })), { code: "InvalidInput", field: "items.0.disks.0.ids" });
    assert.deepEqual(await refused(report({ indexes: Buffer.from(new Uint32Array([64]).buffer).toString("base64") })), {
      code: "InvalidInput",
      field: "items.0.disks.0.indexes",
    });
    assert.equal((await v.engine.points("vm")).length, 1);
    assert.equal((await v.engine.status()).vault.store.blocks, blocksBefore);
    assert.equal((await v.engine.vault.db.selectFrom("disks").select("state_version").executeTakeFirstOrThrow()).state_version, disk.state_version);
  });

  it("an agent that cannot read a disk reports it: the item's health says why and its waiting job fails", async () => {
    const v = await withAgents(["host2"]);
    const protect = await v.engine.protect({
      name: "gone",
      site: "hq",
      host: "host2",
      policy: "gold",
      disks: [{ name: "os", path: path.join(v.dir, "missing.img"), os: true }],
    });
    assert.equal(protect.state, "Suspended", "the engine does not look at an agent's disks");
    await v.agents.get("host2")!.once();
    const job = await v.engine.job(protect.id);
    assert.equal(job.state, "Failed");
    assert.equal(job.error?.code, "DiskNotFound");
    const status = await v.engine.item("gone");
    assert.equal(status.state, "InitialReplicationPending");
    assert.equal(status.health, "Critical");
    assert.match(status.healthErrors[0].message, /agent on host2: .*missing\.img/);
  });

  it("keeps packs no index names for an hour: an agent's blocks wait there for their point", async () => {
    const v = await withAgents(["host2"]);
    const orphan = path.join(v.dir, "vault", "store", "packs", "ee", `${"e".repeat(32)}.pack`);
    await fs.mkdir(path.dirname(orphan), { recursive: true });
    await fs.writeFile(orphan, Buffer.alloc(4096, 7));
    assert.equal((await v.engine.applyRetention()).state, "Succeeded");
    assert.ok(await fs.stat(orphan), "a fresh orphan stays");
    const old = new Date(Date.now() - 2 * 60 * MINUTE);
    await fs.utimes(orphan, old, old);
    assert.equal((await v.engine.applyRetention()).state, "Succeeded");
    await assert.rejects(fs.stat(orphan), /ENOENT/, "an hour-old orphan goes");
  });
});
