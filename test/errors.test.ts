// Error codes are a closed set (schema/errors.ts): every code has its status and retry flag, the server
// answers each code's status, and no source raises a code the table does not define. Bad input is one
// kind, ValidationError (an EngineError), whether a schema refused it or a single value was refused.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { ERRORS, ErrorBody, ErrorCode, parse, PolicySpec, ValidationError, type ErrorCode as Code } from "../schema";
import { classify, EngineError } from "../engine/errors";
import { toErrorResponse } from "../engine/server/errors";
import { buildServer } from "../engine/server/app";
import { EngineClient } from "../client/engine-client";
import { reportError } from "../cli/errors";
import { lifeboat } from "./cli";
import { makeDisk, recoveryVault, tempDir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const SCANNED = ["engine", "agent", "cli", "client", "provider"];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

describe("error codes", () => {
  const codes = Object.keys(ERRORS) as Code[];

  it("every code in the table has an HTTP error status, a retry flag and a meaning", () => {
    assert.ok(codes.length > 20);
    for (const code of codes) {
      const spec = ERRORS[code];
      assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status < 600, `${code}: status ${spec.status}`);
      assert.equal(typeof spec.retryable, "boolean", code);
      assert.ok(spec.meaning.length > 10, `${code}: meaning`);
    }
    assert.deepEqual(ErrorCode.options, codes);
  });

  it("the server answers each EngineError code with the table's status, and a body the client can read", () => {
    for (const code of codes) {
      const { status, body } = toErrorResponse(new EngineError(code, `a ${code}`, { field: "name" }));
      assert.equal(status, ERRORS[code].status, code);
      assert.deepEqual(ErrorBody.parse(body), { error: { code, message: `a ${code}`, field: "name" } });
    }
  });

  it("an EngineError is recoverable as its code says, unless the raise overrides it", () => {
    for (const code of codes) assert.equal(new EngineError(code, "x").recoverable, ERRORS[code].retryable, code);
    assert.equal(new EngineError("BlockMissing", "x", { recoverable: true }).recoverable, true);
  });

  it("an errno without a code of its own is OsError, with the errno kept in the message", () => {
    const e = classify(Object.assign(new Error("cross-device link"), { code: "EXDEV" }));
    assert.equal(e.code, "OsError");
    assert.match(e.message, /^EXDEV: cross-device link$/);
    assert.equal(e.recoverable, false);
    assert.equal(classify(Object.assign(new Error("reset"), { code: "ECONNRESET" })).code, "ConnectionLost");
    assert.equal(classify(Object.assign(new Error("full"), { code: "ENOSPC" })).recoverable, true);
  });

  it("no source raises a code outside the table (EngineError literals and error bodies)", () => {
    const raised = /new EngineError\(\s*"([^"]*)"|error: \{ code: "([^"]*)"/g;
    const outside: string[] = [];
    let seen = 0;
    for (const file of SCANNED.flatMap((d) => sources(path.join(ROOT, d)))) {
      for (const m of fs.readFileSync(file, "utf8").matchAll(raised)) {
        seen++;
        const code = m[1] ?? m[2];
        if (!Object.hasOwn(ERRORS, code)) outside.push(`${path.relative(ROOT, file)}: ${code}`);
      }
    }
    assert.ok(seen > 50, `the scan found ${seen} raises; has the raise syntax changed?`);
    assert.deepEqual(outside, []);
  });

  it("no source raises InvalidInput but as a ValidationError (schema/validate.ts)", () => {
    const files = SCANNED.flatMap((d) => sources(path.join(ROOT, d))).map((file) => [path.relative(ROOT, file), fs.readFileSync(file, "utf8")] as const);
    assert.ok(
      files.some(([, text]) => text.includes("ValidationError.refused(")),
      "the scan found no single refusal; has the raise syntax changed?",
    );
    assert.deepEqual(
      files.filter(([, text]) => /EngineError\(\s*"InvalidInput"/.test(text)).map(([file]) => file),
      [],
    );
  });
});

/** What reportError (the CLI's last step) writes and answers for an error. */
function reported(error: unknown, json: boolean): { code: number; stderr: string } {
  let stderr = "";
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: reportError(error, json), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe("bad input is one kind of error", () => {
  it("a schema's ValidationError is an EngineError: code InvalidInput, its first property as field, kept by classify", () => {
    const error = (() => {
      try {
        parse(PolicySpec, { name: "p", copyFrequency: "1m", retentionHours: 100 }, "policy");
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ValidationError && error instanceof EngineError, `got ${String(error)}`);
    assert.equal(error.code, "InvalidInput");
    assert.equal(error.what, "policy");
    assert.deepEqual(error.failures.map((f) => f.property).sort(), ["copyFrequency", "retentionHours"]);
    assert.equal(error.field, error.failures[0].property);
    assert.equal(error.recoverable, false);
    // A job or a replication attempt that fails on bad input records InvalidInput, not an errno-less OsError.
    assert.equal(classify(error), error);
    assert.deepEqual(toErrorResponse(error), {
      status: 400,
      body: { error: { code: "InvalidInput", message: error.message, field: error.failures[0].property, what: "policy", failures: error.failures } },
    });
  });

  describe("a single refused value", () => {
    let v: Awaited<ReturnType<typeof recoveryVault>>;
    let app: FastifyInstance;
    let endpoint: string;
    let token: string;

    before(async () => {
      const dir = tempDir();
      v = await recoveryVault(dir);
      await makeDisk(path.join(dir, "web.img"), 4);
      const job = await v.engine.protect({
        name: "web",
        site: "hq",
        host: "host1",
        policy: "gold",
        disks: [{ name: "os", path: path.join(dir, "web.img"), os: true }],
        recovery: { site: "dr", network: "dr-net" },
      });
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      app = buildServer(v.engine);
      await app.listen({ host: "127.0.0.1", port: 0 });
      endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      token = await v.engine.createToken("ops");
    });
    after(() => app.close());

    it("is the same ValidationError locally and through the API and client; the CLI prints it alike, exit 2", async () => {
      const client = new EngineClient(endpoint, token, { pollMs: 20 });
      const jobsBefore = await v.engine.jobs({ limit: 1000 });
      // A planned failover of a machine without a shutdown command: refused, naming the property "type".
      const local = await v.engine.failover("web", { type: "planned" }).then(
        () => assert.fail("not refused"),
        (e: unknown) => e,
      );
      const remote = await client.failover("web", { type: "planned" }).then(
        () => assert.fail("not refused"),
        (e: unknown) => e,
      );
      for (const [where, error] of [
        ["local", local],
        ["remote", remote],
      ] as const) {
        assert.ok(error instanceof ValidationError && error instanceof EngineError, `${where}: got ${String(error)}`);
        assert.equal(error.code, "InvalidInput", where);
        assert.equal(error.field, "type", where);
        assert.match(error.message, /^a planned failover of 'web' shuts the source down first: give it a shutdown command/, where);
        assert.equal(error.what, undefined, where);
        assert.deepEqual(error.failures, [{ property: "type", reason: error.message }], where);
      }
      const message = (local as ValidationError).message;
      assert.equal((remote as ValidationError).message, message);
      assert.deepEqual(toErrorResponse(local), { status: 400, body: { error: { code: "InvalidInput", message, field: "type" } } });
      assert.deepEqual(await v.engine.jobs({ limit: 1000 }), jobsBefore, "the refusal started no job");

      // The CLI: the same text and exit code for the local error, the rebuilt one, and a real remote CLI.
      assert.deepEqual(reported(local, false), { code: 2, stderr: `error: ${message} (type)\n` });
      assert.deepEqual(reported(remote, false), reported(local, false));
      assert.deepEqual(reported(remote, true), reported(local, true));
      assert.deepEqual(JSON.parse(reported(local, true).stderr), { error: { code: "InvalidInput", message, field: "type" } });
      const cli = await lifeboat(["--endpoint", endpoint, "--token", token, "failover", "web", "--type", "planned"]);
      assert.deepEqual({ code: cli.code, stderr: cli.stderr }, reported(local, false));
      const json = await lifeboat(["--endpoint", endpoint, "--token", token, "failover", "web", "--type", "planned", "--json"]);
      assert.deepEqual({ code: json.code, stderr: json.stderr }, reported(local, true));
    });
  });
});
