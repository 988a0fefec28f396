import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../engine/server/app";
import { listen } from "../engine/server/listen";
import { DAY } from "../engine";
import { makeDisk, randomWrites, recoveryVault, tempDir } from "./helpers";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

describe("engine service: HTTP API", () => {
  let engine: Engine;
  let clock: Awaited<ReturnType<typeof recoveryVault>>["clock"];
  let app: FastifyInstance;
  let token: string;
  let dir: string;
  const call = async (method: string, url: string, payload?: unknown, bearer: string | null = token) => {
    const res = await app.inject({ method: method as "GET", url, payload: payload as object, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    const json = String(res.headers["content-type"] ?? "").includes("json");
    return { status: res.statusCode, body: json && res.body ? JSON.parse(res.body) : undefined, text: res.body, headers: res.headers };
  };
  /** Poll a job until it ends, as clients do. */
  const finished = async (id: string) => {
    for (;;) {
      const { body } = await call("GET", `/v1/jobs/${id}`);
      if (!["InProgress", "NotStarted"].includes(body.state)) return body;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  before(async () => {
    dir = tempDir();
    ({ engine, clock } = await recoveryVault(dir));
    token = await engine.createToken("ops");
    app = buildServer(engine);
    await makeDisk(path.join(dir, "web.img"), 8);
  });
  after(() => app.close());

  it("health checks need no token; everything else needs a valid one, and a refused request changes nothing", async () => {
    assert.equal((await call("GET", "/healthz", undefined, null)).status, 200);
    assert.equal((await call("GET", "/readyz", undefined, null)).status, 200);
    const none = await call("POST", "/v1/sites", { name: "x", kind: "physical" }, null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, "Unauthorized");
    assert.equal(none.headers["www-authenticate"], "Bearer");
    assert.equal((await call("POST", "/v1/sites", { name: "x", kind: "physical" }, "lbt_wrong")).status, 401);
    assert.equal((await call("GET", "/metrics", undefined, "lbt_wrong")).status, 401);
    const expiring = await engine.createToken("short", "admin", DAY);
    assert.equal((await call("GET", "/v1/sites", undefined, expiring)).status, 200);
    clock.advance(DAY);
    assert.equal((await call("POST", "/v1/sites", { name: "y", kind: "physical" }, expiring)).status, 401, "expired");
    const revoked = await engine.createToken("revoked");
    await engine.revokeToken("revoked");
    assert.equal((await call("GET", "/v1/sites", undefined, revoked)).status, 401, "revoked");
    const agent = await engine.createToken("agent1", "agent");
    assert.equal((await call("GET", "/v1/status", undefined, agent)).status, 403);
    const sites = (await call("GET", "/v1/sites")).body as Array<{ name: string }>;
    assert.deepEqual(
      sites.map((s) => s.name),
      ["dr", "hq"],
      "no refused request created a site",
    );
  });

  it("bad bodies: 400 with the code, the field and every failure", async () => {
    const bad = await call("POST", "/v1/policies", { name: "p", copyFrequency: "1m", retentionHours: 100 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "InvalidInput");
    assert.deepEqual(bad.body.error.failures.map((f: { property: string }) => f.property).sort(), ["copyFrequency", "retentionHours"]);
    assert.equal(bad.body.error.field, "copyFrequency");
    const item = await call("POST", "/v1/items", { name: "w", site: "hq", policy: "gold", disks: [{ name: "os", path: "/nope.img", os: true }] });
    assert.equal(item.status, 400);
    assert.equal(item.body.error.field, "disks.0.path");
    const notJson = await app.inject({
      method: "POST",
      url: "/v1/sites",
      payload: "{not json",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(JSON.parse(notJson.body).error.code, "BadRequest");
    assert.ok(!notJson.body.includes("    at "), "no stack trace");
    assert.equal((await call("GET", "/v1/items/ghost")).status, 404);
    assert.equal((await call("GET", "/v1/nowhere")).status, 404);
  });

  it("long operations answer 202 with their job at once; clients poll it to the end", async () => {
    const created = await call("POST", "/v1/items", {
      name: "web",
      site: "hq",
      policy: "gold",
      disks: [{ name: "os", path: path.join(dir, "web.img"), os: true }],
      recovery: { site: "dr", network: "dr-net" },
    });
    assert.equal(created.status, 202);
    assert.equal(created.headers.location, `/v1/jobs/${created.body.id}`);
    assert.equal(created.body.type, "EnableProtection");
    assert.equal((await finished(created.body.id)).state, "Succeeded");
    await randomWrites(path.join(dir, "web.img"), 3);
    const sync = await call("POST", "/v1/items/web/sync", {});
    assert.equal(sync.status, 202);
    assert.equal((await finished(sync.body.id)).state, "Succeeded");
    const points = await call("GET", "/v1/items/web/points");
    assert.equal(points.body.length, 2);
    const status = await call("GET", "/v1/items/web");
    assert.deepEqual([status.body.state, status.body.health], ["Protected", "Normal"]);
  });

  it("metrics: per-item RPO, health, bytes, cycle time; store; jobs by type and state", async () => {
    const res = await call("GET", "/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"] as string, /text\/plain/);
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(res.text)?.[1]);
    assert.equal(value('lifeboat_item_health{item="web",health="Normal"}'), 1);
    assert.equal(value('lifeboat_item_health{item="web",health="Warning"}'), 0);
    assert.equal(value('lifeboat_item_rpo_seconds{item="web"}'), 0);
    assert.equal(value('lifeboat_item_rpo_threshold_ratio{item="web"}'), 0);
    assert.equal(value('lifeboat_item_recovery_points{item="web"}'), 2);
    assert.equal(value('lifeboat_item_bytes_read_total{item="web"}'), 2 * 8 * 65536, "two points, each read the whole disk");
    assert.ok(value('lifeboat_item_bytes_sent_total{item="web"}') > 0);
    assert.ok(value('lifeboat_item_last_cycle_seconds{item="web"}') > 0);
    assert.ok(value("lifeboat_store_blocks") > 0);
    assert.equal(value('lifeboat_jobs{type="Replicate",state="Succeeded"}'), 1);
    assert.equal(value('lifeboat_job_duration_seconds_count{type="EnableProtection",state="Succeeded"}'), 1);
    assert.match(res.text, /# TYPE lifeboat_item_rpo_seconds gauge/);
  });

  it("state conflicts are 409: a second failover, committing twice", async () => {
    const first = await call("POST", "/v1/items/web/failover", { type: "unplanned", point: "latest-processed" });
    assert.equal(first.status, 202);
    const again = await call("POST", "/v1/items/web/failover", { type: "unplanned", point: "latest-processed" });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already failed over/);
    assert.equal((await finished(first.body.id)).state, "Succeeded");
    assert.equal((await call("POST", "/v1/items/web/commit")).status, 202);
    const twice = await call("POST", "/v1/items/web/commit");
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, "Conflict");
  });

  it("confines paths in requests to the allowed directories: outside, '..' and symlinks are refused", async () => {
    symlinkSync("/etc", path.join(dir, "escape"));
    const attempts: Array<[string, string, unknown, string, RegExp]> = [
      [
        "POST",
        "/v1/items",
        { name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: "/etc/hostname", os: true }] },
        "disks.0.path",
        /outside the directories this engine allows/,
      ],
      [
        "POST",
        "/v1/items",
        { name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: `${dir}/../../etc/hostname`, os: true }] },
        "disks.0.path",
        /must not contain '\.\.'/,
      ],
      [
        "POST",
        "/v1/items",
        { name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "escape", "hostname"), os: true }] },
        "disks.0.path",
        /outside/,
      ],
      ["POST", "/v1/items/web/materialize", { point: "latest", outDir: "/tmp/elsewhere" }, "outDir", /outside/],
      ["POST", "/v1/items/web/materialize", { point: "latest", outDir: "relative/dir" }, "outDir", /absolute/],
      ["POST", "/v1/sites", { name: "dr2", kind: "recovery", path: "/var/lib/dr" }, "path", /outside/],
    ];
    const jobsBefore = (await call("GET", "/v1/jobs?limit=100")).body.length;
    for (const [method, url, payload, field, reason] of attempts) {
      const res = await call(method, url, payload);
      assert.equal(res.status, 400, `${url} ${JSON.stringify(payload)}`);
      assert.equal(res.body.error.failures[0].property, field);
      assert.match(res.body.error.failures[0].reason, reason);
    }
    assert.equal((await call("GET", "/v1/jobs?limit=100")).body.length, jobsBefore, "no job was started");
    assert.equal((await call("GET", "/v1/items/x")).status, 404);
  });

  it("publishes an OpenAPI document generated from the schemas", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    assert.equal(doc.openapi, "3.1.0");
    assert.ok(doc.paths["/v1/items/{item}/failover"].post.requestBody);
    assert.deepEqual(doc.components.schemas.FailoverRequest.properties.type.enum, ["planned", "unplanned"]);
    assert.equal(doc.components.schemas.PolicySpec.properties.retentionHours.maximum, 72);
  });

  it("streams a job's progress as server-sent events over a real socket", async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;
    await makeDisk(path.join(dir, "db.img"), 64);
    const res = await fetch(`${base}/v1/items`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "db", site: "hq", policy: "gold", disks: [{ name: "os", path: path.join(dir, "db.img"), os: true }] }),
    });
    assert.equal(res.status, 202);
    const job = (await res.json()) as { id: string };
    const events = await (await fetch(`${base}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${token}` } })).text();
    const states = [...events.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]).state as string);
    assert.ok(states.length >= 1);
    assert.equal(states[states.length - 1], "Succeeded");
  });
});

describe("engine service: TLS", () => {
  it("serves HTTPS with the given certificate and key", async function () {
    const dir = tempDir();
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
    } catch {
      this.skip(); // no openssl on this machine
    }
    const { engine } = await recoveryVault(dir);
    const server = await listen(engine, { host: "127.0.0.1", port: 0, tlsCert: path.join(dir, "cert.pem"), tlsKey: path.join(dir, "key.pem") });
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const token = readFileSync(server.tokenFile!, "utf8").trim();
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${server.url}/v1/sites`, { ca: readFileSync(path.join(dir, "cert.pem")), headers: { authorization: `Bearer ${token}` } }, (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}`))));
          })
          .on("error", reject);
      });
      assert.deepEqual(
        (JSON.parse(body) as Array<{ name: string }>).map((s) => s.name),
        ["dr", "hq"],
      );
    } finally {
      await server.app.close();
    }
  });
});
