// Error codes are a closed set (schema/errors.ts): every code has its status and retry flag, the server
// answers each code's status, and no source raises a code the table does not define.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ERRORS, ErrorBody, ErrorCode, type ErrorCode as Code } from "../schema";
import { classify, EngineError } from "../engine/errors";
import { toErrorResponse } from "../engine/server/errors";

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
});
