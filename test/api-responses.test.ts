import { strict as assert } from "node:assert";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../engine/server/app";
import { routes, type ServedRoute } from "../engine/server/routes";
import { agentRoutes } from "../engine/server/agent-routes";
import { responseSchema } from "../engine/server/body";
import { EngineClient } from "../client/engine-client";
import { Agent } from "../agent/agent";
import { failuresOf } from "../schema";
import { waitFor } from "./wait";
import { makeDisk, randomWrites, recoveryVault, stopMachines, tempDir } from "./helpers";

const ALL: ServedRoute[] = [...routes, ...agentRoutes];

/**
 * The schemas in schema/ are the whole wire contract: every route of the API, called for real (the engine
 * client, an in-process agent over loopback), answers what its route's response schema says. The test
 * checks each 2xx answer itself against the schema the route names, and the server is built with
 * checkResponses as well, so an answer that does not fit fails the call that got it.
 */
describe("API responses: every route answers what its schema says", () => {
  let v: Awaited<ReturnType<typeof recoveryVault>>;
  let dir: string;
  let app: FastifyInstance;
  let api: EngineClient;
  let endpoint: string;
  let token: string;
  /** "METHOD url" of each route that answered 2xx, and each answer that did not fit its schema. */
  const answered = new Set<string>();
  const misfits: string[] = [];
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(new URL(url, endpoint), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${url} answered ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  const succeeded = (job: { state: string; error: unknown }) => assert.equal(job.state, "Succeeded", JSON.stringify(job.error));

  before(async () => {
    dir = tempDir();
    v = await recoveryVault(dir);
    app = buildServer(v.engine, { checkResponses: true });
    const byRoute = new Map(ALL.map((r) => [`${r.method} ${r.url}`, r]));
    app.addHook("onSend", async (request, reply, payload) => {
      const key = `${request.method} ${request.routeOptions.url}`;
      const route = byRoute.get(key);
      if (!route || reply.statusCode >= 300) return payload;
      const result = responseSchema(route.response).safeParse(JSON.parse(String(payload)));
      if (result.success) answered.add(key);
      else
        misfits.push(
          `${key} (${route.response}): ${failuresOf(result.error)
            .map((f) => `${f.property}: ${f.reason}`)
            .join("; ")}`,
        );
      return payload;
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    token = await v.engine.createToken("ops");
    api = new EngineClient(endpoint, token, { pollMs: 20 });
  });
  after(async () => {
    await stopMachines(v.engine);
    await app.close();
  });

  it("inventory, replication, failover and back, plans, tokens and jobs", async () => {
    await api.vaultInfo();
    await api.addSite({ name: "edge", kind: "physical" });
    await api.updateSite("edge", { hosts: ["e1"] });
    await api.addHost("edge", "e2");
    await api.listSites();
    await api.addPolicy({ name: "silver", copyFrequency: "5m" });
    await api.updatePolicy("silver", { retentionHours: 12 });
    await api.getPolicy("silver");
    await api.listPolicies();
    await api.addNetwork({ name: "spare-net", site: "dr", subnets: ["10.2.0.0/24"] });
    await api.listNetworks();
    await api.addNetworkMapping({ source: "lab", target: "spare-net" });
    await api.listNetworkMappings();
    await api.removeNetworkMapping("lab");
    await api.removeNetwork("spare-net");
    await api.removePolicy("silver");
    await api.removeSite("edge");

    const disk = path.join(dir, "web.img");
    await makeDisk(disk, 8);
    const spec = {
      name: "web",
      site: "hq",
      host: "host1",
      policy: "gold",
      disks: [{ name: "os", path: disk, os: true }],
      hooks: { shutdown: "true" },
      recovery: { site: "dr", network: "dr-net" },
    };
    await api.checkItem(spec);
    succeeded(await api.protect(spec));
    await api.updateItem("web", { group: "shop" });
    v.clock.advance(30_000);
    await randomWrites(disk, 3);
    succeeded(await api.replicateNow("web"));
    succeeded(await api.resync("web"));
    const [point] = await api.points("web");
    await call("GET", "/v1/items/web/rpo-history?hours=1");
    succeeded(await api.materialize("web", point.id, path.join(dir, "out")));
    succeeded(await api.verify({}));
    succeeded(await api.applyRetention());
    await api.item("web");
    await api.status();

    succeeded(await api.drill("web", "latest-processed"));
    succeeded(await api.drillCleanup("web", "fine"));
    await api.failoverPreview("web", { type: "unplanned", point: "latest-processed" });
    succeeded(await api.failover("web", { type: "unplanned", point: "latest-processed" }));
    succeeded(await api.changeRecoveryPoint("web", point.id));
    succeeded(await api.commit("web"));
    succeeded(await api.reprotect("web"));
    succeeded(await api.failback("web", {}));
    succeeded(await api.commit("web"));
    succeeded(await api.reprotect("web"));

    await api.addPlan({ name: "shop", groups: [{ items: ["web"] }] });
    await api.replacePlan("shop", { name: "shop", groups: [{ items: ["web"], after: [{ name: "check", kind: "manual", instructions: "look" }] }] });
    await api.getPlan("shop");
    await api.listPlans();
    await api.planPreview("shop", { type: "planned" });
    const run = await api.runPlan("shop", { type: "planned" });
    assert.equal(run.state, "Suspended", "the plan waits for its manual action");
    succeeded(await api.resumeJob(run.id));
    await api.removePlan("shop");
    // The plan failed "web" over: it stays there for good.
    succeeded(await api.completeMigration("web"));
    await api.jobs({ limit: 5 });
    const [last] = await api.jobs({ limit: 1 });
    await api.job(last.id);
    // A verify throttled to a crawl is still running when its cancel arrives.
    const verifying = (await call("POST", "/v1/verify", { rateLimitMiBps: 0.001 })) as { id: string };
    await call("POST", `/v1/jobs/${verifying.id}/cancel`, {});
    await waitFor("the cancelled verify ends", async () => (await api.job(verifying.id)).state !== "InProgress");
    await api.unprotect("web");

    await api.createToken("spare");
    await api.revokeToken("spare");
    await api.rotateRegistrationKey();
  });

  it("the agents' side: registration, heartbeats, the data key, disk state, lookups, windows, failures", async () => {
    const key = await api.rotateRegistrationKey();
    const agent = await Agent.start({ engine: endpoint, host: "host2", site: "hq", registrationKey: key, workDir: path.join(dir, "agent-host2") });
    const disk = path.join(dir, "far.img");
    await makeDisk(disk, 8);
    const protect = await v.engine.protect({ name: "far", site: "hq", host: "host2", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
    assert.equal(protect.state, "Suspended", "the agent's machine waits for its agent");
    await agent.once();
    succeeded(await v.engine.job(protect.id));
    const agentToken = (await v.engine.registerAgent({ host: "host3", site: "hq", registrationKey: key })).token;
    const asAgent = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(new URL(url, endpoint), {
        method,
        headers: { authorization: `Bearer ${agentToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${url} answered ${res.status}: ${await res.text()}`);
    };
    await api.moveItem("far", { host: "host3" });
    await asAgent("GET", "/v1/agents/host3/data-key");
    await asAgent("GET", "/v1/agents/host3/items/far/disks/os/state");
    await asAgent("POST", "/v1/agents/host3/blocks/lookup", { ids: [] });
    await asAgent("POST", "/v1/agents/host3/failures", {
      mode: "delta",
      items: ["far"],
      error: { code: "IoError", message: "the disk stalled", recoverable: true },
    });
    await call("POST", "/v1/registration-key/revoke", {});
  });

  it("the OpenAPI document lists every route's answer as a component schema", async () => {
    const doc = (await call("GET", "/openapi.json")) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const route of ALL) {
      const responses = doc.paths[route.url.replace(/:(\w+)/g, "{$1}")][route.method.toLowerCase()].responses;
      const ok = responses[route.job ? "202" : route.creates ? "201" : "200"];
      const ref = ok?.content?.["application/json"]?.schema.$ref ?? "";
      assert.ok(doc.components.schemas[ref.replace("#/components/schemas/", "")], `${route.method} ${route.url}: answer ${ref || "missing"}`);
    }
  });

  it("every route answered at least once, and every answer fit its schema", () => {
    assert.deepEqual(misfits, [], "answers that do not fit their route's schema");
    assert.deepEqual(
      ALL.map((r) => `${r.method} ${r.url}`).filter((r) => !answered.has(r)),
      [],
      "routes this test did not get an answer from",
    );
  });
});
