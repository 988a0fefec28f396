// The Engine facade holds no work of its own: each operation's module starts its job and runs its
// queries, so there is one place to read what an operation does (issue 12).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";

const FACADE = path.resolve(__dirname, "../engine/engine.ts");

describe("the Engine facade", () => {
  const source = readFileSync(FACADE, "utf8");

  it("starts no job: every operation's module starts its own", () => {
    const found = source.match(/\bJob\.(start|resume)\(|\boneTaskJob\(/g) ?? [];
    assert.deepEqual(found, [], "jobs are started in the module of their operation (engine/replication/, failover/, ...)");
  });

  it("runs no catalog query: those are catalog/'s", () => {
    const found = source.match(/\.(selectFrom|insertInto|updateTable|deleteFrom|transaction)\(/g) ?? [];
    assert.deepEqual(found, [], "queries live in engine/catalog/ modules");
  });
});
