// The deployment harness end to end: real gRPC, the real `cmd/run` program host and the real
// `cmd/dynamic-provider` process, over a fixture program whose two dynamic resources write files.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { deploy, type Action, type DeployResult } from "./harness/deploy";
import type { Op } from "./harness/report";
import { tempDir } from "./helpers";

const FIXTURE = path.join(__dirname, "fixtures", "pulumi", "files");

type Run = DeployResult & { output: string };

/** Runs one harness operation on the fixture with its printout captured (shown when a test fails). */
function harness(stateDir: string, dir: string) {
  return async (action: Action, config: Record<string, string> = {}, stack = "dev"): Promise<Run> => {
    const lines: string[] = [];
    const result = await deploy(action, { dir: FIXTURE, stack, stateDir, config: { dir, ...config }, out: (l) => lines.push(l) });
    return { ...result, output: lines.join("\n") };
  };
}

/** name → op of the dynamic resources (the stack resource is left out). */
function ops(result: DeployResult): Record<string, Op> {
  const out: Record<string, Op> = {};
  for (const s of result.steps) if (s.type.startsWith("pulumi-nodejs:dynamic")) out[s.name] = s.op;
  return out;
}

function customNames(result: DeployResult): string[] {
  return result.state.resources.filter((r) => r.custom).map((r) => r.name);
}

function ok(result: Run): Run {
  assert.ok(result.ok, `harness run failed:\n${result.output}`);
  return result;
}

describe("deployment harness (real cmd/run and dynamic-provider)", () => {
  const files = tempDir("harness-files-");
  const stateDir = tempDir("harness-state-");
  const run = harness(stateDir, files);
  const file = (name: string) => path.join(files, name);

  it("preview plans both creates and creates nothing", async () => {
    const result = ok(await run("preview"));
    assert.deepEqual(ops(result), { alpha: "create", beta: "create" });
    assert.deepEqual(fs.readdirSync(files), []);
    assert.equal(fs.existsSync(path.join(stateDir, "dev.json")), false);
  });

  it("up creates both files and records both resources in the state file", async () => {
    const result = ok(await run("up"));
    assert.deepEqual(ops(result), { alpha: "create", beta: "create" });
    assert.equal(fs.readFileSync(file("alpha.txt"), "utf8"), "A");
    assert.equal(fs.readFileSync(file("beta.txt"), "utf8"), "B");
    const saved = JSON.parse(fs.readFileSync(path.join(stateDir, "dev.json"), "utf8"));
    const alpha = saved.resources.find((r: { name: string }) => r.name === "alpha");
    assert.equal(alpha.id, file("alpha.txt"));
    assert.deepEqual(customNames(result), ["alpha", "beta"]);
  });

  it("a second up changes nothing", async () => {
    const result = ok(await run("up"));
    assert.ok(
      result.steps.every((s) => s.op === "same"),
      JSON.stringify(result.steps),
    );
  });

  it("a content change updates in place; a file name change replaces", async () => {
    const updated = ok(await run("up", { alphaContent: "AA" }));
    assert.deepEqual(ops(updated), { alpha: "update", beta: "same" });
    assert.equal(fs.readFileSync(file("alpha.txt"), "utf8"), "AA");

    const previewed = ok(await run("preview", { alphaContent: "AA", alphaFile: "alpha2.txt" }));
    assert.deepEqual(ops(previewed), { alpha: "replace", beta: "same" });
    assert.ok(fs.existsSync(file("alpha.txt")) && !fs.existsSync(file("alpha2.txt")), "preview replaced nothing");

    const replaced = ok(await run("up", { alphaContent: "AA", alphaFile: "alpha2.txt" }));
    assert.deepEqual(ops(replaced), { alpha: "replace", beta: "same" });
    assert.deepEqual(fs.readdirSync(files).sort(), ["alpha2.txt", "beta.txt"]);
    const alpha = replaced.state.resources.find((r) => r.name === "alpha");
    assert.equal(alpha?.id, file("alpha2.txt"));
  });

  it("refresh finds a file deleted by hand gone and drops it from the state", async () => {
    fs.rmSync(file("beta.txt"));
    const result = ok(await run("refresh"));
    assert.deepEqual(ops(result), { alpha: "same", beta: "delete" });
    assert.deepEqual(customNames(result), ["alpha"]);
  });

  it("up recreates what refresh found gone, and deletes what the program no longer declares", async () => {
    const config = { alphaContent: "AA", alphaFile: "alpha2.txt" };
    assert.deepEqual(ops(ok(await run("up", config))), { alpha: "same", beta: "create" });
    assert.ok(fs.existsSync(file("beta.txt")));
    const removed = ok(await run("up", { ...config, withBeta: "false" }));
    assert.deepEqual(ops(removed), { alpha: "same", beta: "delete" });
    assert.equal(fs.existsSync(file("beta.txt")), false);
    assert.deepEqual(customNames(removed), ["alpha"]);
  });

  it("destroy deletes everything and empties the state", async () => {
    const result = ok(await run("destroy"));
    assert.deepEqual(ops(result), { alpha: "delete" });
    assert.deepEqual(fs.readdirSync(files), []);
    assert.deepEqual(result.state.resources, []);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(stateDir, "dev.json"), "utf8")).resources, []);
  });

  it("a check failure names the resource, the property and the reason, and creates nothing", async () => {
    for (const action of ["preview", "up"] as const) {
      const result = await run(action, { alphaContent: "" }, "bad");
      assert.equal(result.ok, false, `${action} should fail`);
      assert.deepEqual(result.errors, ['alpha [pulumi-nodejs:dynamic:Resource]: check failed: property "content": must be a non-empty string']);
      assert.deepEqual(fs.readdirSync(files), [], `${action} created nothing`);
      assert.deepEqual(customNames(result), []);
    }
  });

  it("a create error comes back naming the resource, and the stack keeps nothing of it", async () => {
    fs.writeFileSync(file("alpha.txt"), "in the way");
    const result = await run("up", {}, "clash");
    assert.equal(result.ok, false);
    assert.deepEqual(result.errors, [`alpha [pulumi-nodejs:dynamic:Resource]: create failed: ${file("alpha.txt")} already exists`]);
    assert.deepEqual(customNames(result), []);
    assert.equal(fs.existsSync(file("beta.txt")), false, "beta depends on alpha and was never created");
  });
});
