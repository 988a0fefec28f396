import { strict as assert } from "node:assert";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../engine/server/app";
import { routes } from "../engine/server/routes";
import { agentRoutes } from "../engine/server/agent-routes";
import { newVault, tempDir } from "./helpers";

/**
 * Every route of the API, called with what a confused client sends: names that do not exist and bodies
 * of the wrong shape. Each must answer a 4xx with the stable error body (never a 500, never a stack),
 * or succeed where such a call is legitimate (a list, an empty filter).
 */
describe("API contract: every route under bad input", () => {
  let app: FastifyInstance;
  let admin: string;
  let agent: string;
  before(async () => {
    const { engine, registrationKey } = await newVault(tempDir());
    app = buildServer(engine);
    admin = await engine.createToken("ops");
    agent = (await engine.registerAgent({ host: "host1", registrationKey })).token;
  });
  after(() => app.close());

  const all = [...routes, ...agentRoutes];

  it("the table below is every route: a new route is added here, and so tested under bad input", () => {
    assert.deepEqual(all.map((r) => `${r.method} ${r.url}`).sort(), [...TABLE].sort());
  });

  it("the OpenAPI document lists every route with its method", async () => {
    const doc = JSON.parse((await app.inject({ method: "GET", url: "/openapi.json", headers: { authorization: `Bearer ${admin}` } })).body) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const r of all) assert.ok(doc.paths[r.url.replace(/:(\w+)/g, "{$1}")]?.[r.method.toLowerCase()], `${r.method} ${r.url}`);
  });

  const bodies: unknown[] = [{ bogus: true }, [], "text", { name: 42, disks: "none", point: { x: 1 }, ids: ["zz"], items: [] }];
  for (const route of all) {
    it(`${route.method} ${route.url}`, async () => {
      const url = route.url.replace(/:host/g, "host1").replace(/:(\w+)/g, "ghost");
      const token = route.access === "agent" ? agent : admin;
      for (const body of route.method === "GET" ? [undefined] : bodies) {
        const res = await app.inject({
          method: route.method,
          url,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          payload: body === undefined ? undefined : JSON.stringify(body),
        });
        const what = `${route.method} ${url} with ${JSON.stringify(body)} answered ${res.statusCode}: ${res.body}`;
        assert.ok(res.statusCode < 500, what);
        if (res.statusCode >= 400) {
          const error = JSON.parse(res.body).error;
          assert.equal(typeof error.code, "string", what);
          assert.equal(typeof error.message, "string", what);
          assert.doesNotMatch(res.body, /at \S+ \([^)]*:\d+:\d+\)|node:internal|\.ts:\d+/, `${what}: a stack trace leaked`);
        }
      }
    });
  }
});

/** Every route of the API, as METHOD url. */
const TABLE = [
  "GET /v1/vault",
  "GET /v1/status",
  "GET /v1/sites",
  "POST /v1/sites",
  "PATCH /v1/sites/:site",
  "DELETE /v1/sites/:site",
  "POST /v1/sites/:site/hosts",
  "GET /v1/policies",
  "POST /v1/policies",
  "GET /v1/policies/:policy",
  "PATCH /v1/policies/:policy",
  "DELETE /v1/policies/:policy",
  "GET /v1/networks",
  "POST /v1/networks",
  "DELETE /v1/networks/:network",
  "GET /v1/network-mappings",
  "POST /v1/network-mappings",
  "DELETE /v1/network-mappings/:source",
  "GET /v1/items/:item",
  "POST /v1/items",
  "POST /v1/items/check",
  "PATCH /v1/items/:item",
  "DELETE /v1/items/:item",
  "GET /v1/items/:item/points",
  "POST /v1/items/:item/sync",
  "POST /v1/items/:item/resync",
  "POST /v1/items/:item/materialize",
  "POST /v1/items/:item/drill",
  "POST /v1/items/:item/drill/cleanup",
  "POST /v1/items/:item/failover",
  "POST /v1/items/:item/failover/preview",
  "POST /v1/items/:item/change-point",
  "POST /v1/items/:item/commit",
  "POST /v1/items/:item/reprotect",
  "POST /v1/items/:item/failback",
  "POST /v1/items/:item/migrate",
  "GET /v1/items/:item/rpo-history",
  "POST /v1/retention",
  "POST /v1/verify",
  "GET /v1/plans",
  "POST /v1/plans",
  "GET /v1/plans/:plan",
  "PUT /v1/plans/:plan",
  "DELETE /v1/plans/:plan",
  "POST /v1/plans/:plan/run",
  "POST /v1/plans/:plan/run/preview",
  "POST /v1/tokens",
  "POST /v1/tokens/:token/revoke",
  "POST /v1/registration-key",
  "POST /v1/registration-key/revoke",
  "GET /v1/jobs",
  "GET /v1/jobs/:job",
  "POST /v1/jobs/:job/resume",
  "POST /v1/jobs/:job/cancel",
  "POST /v1/agents/register",
  "POST /v1/agents/:host/heartbeat",
  "GET /v1/agents/:host/data-key",
  "GET /v1/agents/:host/items/:item/disks/:disk/state",
  "POST /v1/agents/:host/blocks/lookup",
  "POST /v1/agents/:host/windows",
  "POST /v1/agents/:host/failures",
];
