// The engine client's transport (got): reads are retried when the daemon answers "unavailable",
// writes never are (a repeated POST could start a second job), and a request that gets no answer
// ends at the per-request timeout as a recoverable ConnectionLost naming the endpoint.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { requestJson } from "../client/http";
import type { EngineError } from "../engine/errors";

/** A loopback server whose first `failures` requests answer 503, then 200 with the request's method. */
async function flakyServer(failures: number, hang = false) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (hang) return; // never answers
    if (seen.length <= failures) {
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "VaultBusy", message: "starting up" } }));
    } else {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ method: req.method }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("engine client transport", () => {
  it("retries a GET the daemon answers 503, and answers its JSON", async () => {
    const server = await flakyServer(2);
    try {
      assert.deepEqual(await requestJson(server.url, "t", "GET", "/v1/status"), { method: "GET" });
      assert.deepEqual(server.seen, ["GET /v1/status", "GET /v1/status", "GET /v1/status"]);
    } finally {
      await server.close();
    }
  });

  it("never repeats a POST: the 503 comes back as the engine's error", async () => {
    const server = await flakyServer(1);
    try {
      await assert.rejects(
        requestJson(server.url, "t", "POST", "/v1/items", {}),
        (e: EngineError) => e.code === "VaultBusy" && e.message === "starting up" && e.recoverable,
      );
      assert.deepEqual(server.seen, ["POST /v1/items"]);
    } finally {
      await server.close();
    }
  });

  it("ends a request that gets no answer at the timeout, as ConnectionLost", async () => {
    const server = await flakyServer(0, true);
    const saved = process.env.LIFEBOAT_HTTP_TIMEOUT_MS;
    process.env.LIFEBOAT_HTTP_TIMEOUT_MS = "300";
    try {
      await assert.rejects(requestJson(server.url, "t", "POST", "/v1/sites", {}), (e: EngineError) => {
        assert.equal(e.code, "ConnectionLost");
        assert.equal(e.message, `cannot reach the engine at ${server.url}: no answer within 300 ms`);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.LIFEBOAT_HTTP_TIMEOUT_MS;
      else process.env.LIFEBOAT_HTTP_TIMEOUT_MS = saved;
      await server.close();
    }
  });
});
