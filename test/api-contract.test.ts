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
  const bodies: unknown[] = [{ bogus: true }, [], "text", { name: 42, disks: "none", point: { x: 1 }, ids: ["zz"], items: [] }];
  for (const route of all) {
    it(`${route.method} ${route.url}`, async () => {
      const url = route.url.replace(/:host/g, "host1").replace(/:(\w+)/g, "ghost");
      const token = route.access === "agent" ? agent : admin;
      for (const body of route.method === "GET" ? [undefined] : bodies) {
        const res = await app.inject({ method: route.method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, payload: body === undefined ? undefined : JSON.stringify(body) });
        const what = `${route.method} ${url} with ${JSON.stringify(body)} answered ${res.statusCode}: ${res.body}`;
        assert.ok(res.statusCode < 500, what);
        if (res.statusCode >= 400) {
          const error = JSON.parse(res.body).error;
          assert.equal(typeof error.code, "string", what);
          assert.equal(typeof error.message, "string", what);
          assert.doesNotMatch(res.body, /at \S+ \(|node:internal|\.ts:\d+/, `${what}: a stack trace leaked`);
        }
      }
    });
  }
});
