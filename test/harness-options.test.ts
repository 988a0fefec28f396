// The deployment harness against Pulumi's documented step semantics: resource options, dependencies,
// delete order, secrets, stack config files and the preview printout, each through the real `cmd/run`
// and `cmd/dynamic-provider` processes over a fixture whose dynamic resources write files and log their
// hooks to events.log (test/fixtures/pulumi/options, one scenario per stack).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Action, DeployResult } from "./harness/deploy";
import { loadState } from "./harness/state";
import { tempDir } from "./helpers";
import { harness, ok, PULUMI_FIXTURES, type Run } from "./pulumi-helpers";

const FIXTURE = path.join(PULUMI_FIXTURES, "options");

/** name → op of the dynamic resources (the stack and components left out). */
function ops(result: DeployResult): Record<string, string> {
  return Object.fromEntries(result.steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic")).map((s) => [s.name, s.op]));
}

const names = (result: DeployResult) =>
  result.state.resources
    .filter((r) => r.custom)
    .map((r) => r.name)
    .sort();
const stackOutputs = (result: DeployResult) => result.state.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};

function failed(result: Run): Run {
  assert.equal(result.ok, false, `the run should fail:\n${result.output}`);
  return result;
}

describe("deployment harness follows Pulumi's step semantics (real cmd/run and dynamic-provider)", function () {
  this.timeout(300_000);
  const root = tempDir("harness-options-");
  let count = 0;

  /** A fresh files directory and stack for one scenario of the fixture; runs take extra config. */
  function scenario(name: string) {
    const dir = path.join(root, `${name}-${++count}`);
    fs.mkdirSync(dir);
    const stateDir = path.join(root, `state-${count}`);
    const runs = harness(FIXTURE, stateDir, { dir, scenario: name });
    return {
      dir,
      stateFile: path.join(stateDir, `${name}.json`),
      run: (action: Action, config: Record<string, string> = {}, stack = name) => runs(action, config, stack),
      events: () => (fs.existsSync(path.join(dir, "events.log")) ? fs.readFileSync(path.join(dir, "events.log"), "utf8").trim().split("\n") : []),
      has: (file: string) => fs.existsSync(path.join(dir, file)),
    };
  }

  it("protect: a protected resource survives destroy, a dropped declaration and a replace, and each fails naming it", async () => {
    const s = scenario("protect");
    ok(await s.run("up"));
    const guardedUrn = "urn:pulumi:protect::options::pulumi-nodejs:dynamic:Resource::guarded";

    const destroyed = failed(await s.run("destroy"));
    assert.ok(
      destroyed.errors.some((e) => e.includes(`resource "${guardedUrn}" cannot be deleted because it is protected`)),
      destroyed.errors.join("\n"),
    );
    assert.ok(s.has("guarded.txt"), "the protected file is still there");
    assert.equal(s.has("plain.txt"), false, "an independent resource was destroyed");
    assert.deepEqual(names(destroyed), ["guarded"]);

    ok(await s.run("up"));
    const dropped = failed(await s.run("up", { dropGuarded: "true" }));
    assert.ok(
      dropped.errors.some((e) => e.includes(guardedUrn) && e.includes("protected")),
      dropped.errors.join("\n"),
    );
    assert.ok(s.has("guarded.txt"));
    assert.ok(names(dropped).includes("guarded"));

    const replaced = failed(await s.run("up", { guardedFile: "guarded2.txt" }));
    assert.ok(
      replaced.errors.some((e) => e.includes(`unable to replace resource "${guardedUrn}"`) && e.includes("protection")),
      replaced.errors.join("\n"),
    );
    assert.ok(s.has("guarded.txt") && !s.has("guarded2.txt"), "nothing was replaced");

    // Unprotected by the program, it can go.
    ok(await s.run("up", { protect: "false" }));
    ok(await s.run("destroy"));
    assert.equal(s.has("guarded.txt"), false);
  });

  it("ignoreChanges: ignored properties (top level, nested, array element) keep their old values; the rest is applied", async () => {
    const s = scenario("ignore");
    ok(await s.run("up"));
    const changed = ok(await s.run("up", { host: "h2", tag0: "t2", note: "n2", port: "2" }));
    assert.equal(ops(changed).conf, "update");
    const written = JSON.parse(fs.readFileSync(path.join(s.dir, "conf.txt"), "utf8"));
    assert.deepEqual(written, { note: "n1", settings: { host: "h1", port: 2 }, tags: ["t1", "b"] });
    // Only ignored properties changed: nothing to do.
    const same = ok(await s.run("up", { host: "h3", tag0: "t3", note: "n3", port: "2" }));
    assert.equal(ops(same).conf, "same");
  });

  it("aliases: a rename (alias spec), a re-parent (alias with no parent) and a rename back (alias URN) are the same resource", async () => {
    const s = scenario("alias");
    ok(await s.run("up"));
    const renamed = ok(await s.run("up", { name: "app2", aliasName: "app" }));
    assert.deepEqual(ops(renamed), { app2: "same" });
    const reparented = ok(await s.run("up", { name: "app2", parented: "true", aliasNoParent: "true" }));
    assert.deepEqual(ops(reparented), { app2: "same" });
    const urn = reparented.state.resources.find((r) => r.name === "app2")!.urn;
    assert.equal(urn, "urn:pulumi:alias::options::test:index:Group$pulumi-nodejs:dynamic:Resource::app2");
    const back = ok(await s.run("up", { name: "app", aliasUrn: urn }));
    assert.deepEqual(ops(back), { app: "same" });
    assert.deepEqual(s.events(), ["create app app.txt"], "the file was created once and never deleted");
    assert.deepEqual(names(back), ["app"]);
  });

  it("retainOnDelete: the resource leaves the stack, its file stays and its delete hook never runs", async () => {
    const s = scenario("retain");
    ok(await s.run("up"));
    const dropped = ok(await s.run("up", { withKept: "false" }));
    assert.equal(ops(dropped).kept, "delete");
    assert.match(dropped.output, /deleted\s+pulumi-nodejs:dynamic:Resource {2}kept \[retain\]/);
    assert.deepEqual(names(dropped), ["other"]);
    ok(await s.run("destroy"));
    assert.ok(s.has("kept.txt"), "the retained file is still there");
    assert.equal(s.has("other.txt"), false);
    assert.deepEqual(
      s.events().filter((e) => e.startsWith("delete")),
      ["delete other other.txt"],
    );
  });

  it("replaceOnChanges: a change to a listed property replaces where the engine knows it changed", async () => {
    const s = scenario("replaceOnChanges");
    ok(await s.run("up"));
    const changed = ok(await s.run("up", { content: "v2" }));
    // `unsure` leaves `changes` out of its diff: the engine compares inputs, sees `content` changed, replaces.
    // `sure` answers `changes: true` with no `diffs` (dynamic providers never send them), so the engine
    // has no changed keys to match and updates it in place — as a real `pulumi up` does.
    assert.deepEqual(ops(changed), { unsure: "replace", sure: "update" });
    const events = s.events().slice(2);
    assert.deepEqual([...events].sort(), ["create unsure unsure.txt", "delete unsure unsure.txt", "update sure sure.txt"]);
    assert.ok(events.indexOf("delete unsure unsure.txt") < events.indexOf("create unsure unsure.txt"), "replaced delete-first, as its option says");
    assert.equal(fs.readFileSync(path.join(s.dir, "unsure.txt"), "utf8"), "v2");
  });

  it("deleteBeforeReplace: the option forces delete-first and overrides the provider's delete-first; dependents that would be replaced are deleted first and recreated", async () => {
    const s = scenario("deleteBeforeReplace");
    ok(await s.run("up"));
    const before = s.events().length;
    const replaced = ok(await s.run("up", { baseFile: "base2.txt", cbdFile: "cbd2.txt" }));
    assert.deepEqual(ops(replaced), { base: "replace", child: "replace", loose: "same", cbd: "replace" });
    const events = s.events().slice(before);
    const at = (e: string) => {
      assert.ok(events.includes(e), `${e} in:\n${events.join("\n")}`);
      return events.indexOf(e);
    };
    // The dependent whose input came from base is deleted before base, both before base's replacement.
    assert.ok(at("delete child child-of-base.txt") < at("delete base base.txt"));
    assert.ok(at("delete base base.txt") < at("create base base2.txt"));
    assert.ok(at("create base base2.txt") < at("create child child-of-base2.txt"));
    // deleteBeforeReplace: false beats the provider's deleteBeforeReplace: the new one is made first.
    assert.ok(at("create cbd cbd2.txt") < at("delete cbd cbd.txt"));
    assert.equal(events.filter((e) => e.includes("loose")).length, 0, "a dependsOn-only dependent is left alone");
    assert.deepEqual(fs.readdirSync(s.dir).sort(), ["base2.txt", "cbd2.txt", "child-of-base2.txt", "events.log", "loose.txt"]);
  });

  it("the state records dependencies and property dependencies per resource, as Pulumi's checkpoint does", async () => {
    const s = scenario("deleteBeforeReplace");
    ok(await s.run("up"));
    const state = loadState(s.stateFile);
    const urn = (name: string) => state.resources.find((r) => r.name === name)!.urn;
    const child = state.resources.find((r) => r.name === "child")!;
    assert.deepEqual(child.propertyDependencies, { fileName: [urn("base")] });
    assert.deepEqual(child.dependencies, [urn("base")]);
    assert.deepEqual(state.resources.find((r) => r.name === "loose")!.dependencies, [urn("base")]);
    assert.equal(state.resources.find((r) => r.name === "base")!.dependencies, undefined);
  });

  it("deletes run dependents first, independent ones at once, and nothing a resource that failed to delete depends on", async () => {
    const s = scenario("deletes");
    // a ← b ← c, and d alone: a and d delete together (each waits in its hook for the other's file to go).
    ok(await s.run("up", { rendezvous: "true" }));
    ok(await s.run("destroy"));
    const deletes = s
      .events()
      .filter((e) => e.startsWith("delete"))
      .map((e) => e.split(" ")[1]);
    assert.ok(deletes.indexOf("c") < deletes.indexOf("b") && deletes.indexOf("b") < deletes.indexOf("a"), deletes.join(" "));
    assert.deepEqual(fs.readdirSync(s.dir), ["events.log"]);

    const f = scenario("deletes");
    ok(await f.run("up", { failDelete: "b" }));
    const result = failed(await f.run("destroy", { failDelete: "b" }));
    assert.deepEqual(result.errors.length, 1);
    assert.match(result.errors[0], /^b \[pulumi-nodejs:dynamic:Resource\]: delete failed: .*b\.txt may not be deleted/);
    assert.ok(f.has("a.txt") && f.has("b.txt"), "b stayed, and so did a, which b depends on");
    assert.equal(f.has("c.txt"), false);
    assert.ok(names(result).includes("a") && names(result).includes("b"));
    assert.equal(
      f.events().some((e) => e.startsWith("delete a")),
      false,
    );
  });

  it("independent creates run at once (each waits in its hook for the other's file)", async () => {
    const s = scenario("parallel");
    const result = ok(await s.run("up"));
    assert.deepEqual(ops(result), { p1: "create", p2: "create" });
  });

  it("secrets: a secret input, its echoed output and a secret stack output are encrypted in the state file, stay secret in the program and print as [secret]", async () => {
    const s = scenario("secrets");
    const result = ok(await s.run("up", { token: "tok-SEKRIT-4242", key: "rk-SEKRIT-9999" }));
    const text = fs.readFileSync(s.stateFile, "utf8");
    for (const secret of ["tok-SEKRIT-4242", "rk-SEKRIT-9999"]) assert.equal(text.includes(secret), false, `${secret} is not in the state file in plain text`);
    assert.equal(fs.statSync(s.stateFile).mode & 0o777, 0o600);
    const state = loadState(s.stateFile);
    const res = state.resources.find((r) => r.name === "vaultish")!;
    assert.equal(res.inputs.token, "tok-SEKRIT-4242");
    assert.equal(res.outputs.token, "tok-SEKRIT-4242");
    assert.deepEqual(stackOutputs(result), { registrationKey: "rk-SEKRIT-9999", plainOut: "visible", tokenIsSecret: true });
    assert.match(result.output, /Outputs:\n(.*\n)*\s+\+ registrationKey: \[secret\]/);
    assert.match(result.output, /\+ plainOut: "visible"/);
    assert.equal(result.output.includes("SEKRIT"), false, "no secret in the printout");
    // A changed secret shows as [secret] in the diff too.
    const changed = ok(await s.run("preview", { token: "tok-SEKRIT-5353", key: "rk-SEKRIT-9999" }));
    assert.match(changed.output, /~ token: \[secret\] => \[secret\]/);
    assert.equal(changed.output.includes("SEKRIT"), false);
  });

  it("config: Pulumi.<stack>.yaml and the project's defaults are read, --config wins, and bad config fails naming the key", async () => {
    const s = scenario("config");
    const fromFile = ok(await s.run("up", {}, "config"));
    assert.deepEqual(stackOutputs(fromFile), {
      label: "from-stack-file",
      defaulted: "from-project",
      thing: "namespaced",
      shape: { sides: 4, names: ["a", "b"] },
    });
    const overridden = ok(await s.run("up", { label: "from-command-line", "other:thing": "overridden" }, "config"));
    assert.deepEqual(stackOutputs(overridden), {
      label: "from-command-line",
      defaulted: "from-project",
      thing: "overridden",
      shape: { sides: 4, names: ["a", "b"] },
    });
    // No stack file: the project's default label.
    assert.equal(stackOutputs(ok(await s.run("up", {}, "nofile"))).label, "project-label");

    await assert.rejects(s.run("up", {}, "secure"), /config key "options:password" is an encrypted \(secure\) value/);
    await assert.rejects(s.run("up", {}, "bare"), /config key "label" has no namespace/);
  });

  it("the printout shows nested per-field diffs without truncation, and refresh shows which properties drifted", async () => {
    const s = scenario("diffs");
    ok(await s.run("up"));
    const long = "L".repeat(600);
    const preview = ok(await s.run("preview", { port: "2", deep: "y", tags: '["a","c","d"]', long }));
    const lines = preview.output.split("\n");
    // Keys in order, as Pulumi lists them; the long value in full.
    const expected = [
      `~ long: "short" => "${long}"`,
      "~ settings: {",
      "    ~ nested: {",
      '        ~ deep: "x" => "y"',
      "      }",
      "    ~ port: 1 => 2",
      "  }",
      "~ tags: [",
      '    ~ [1]: "b" => "c"',
      '    + [2]: "d"',
      "  ]",
    ];
    const start = lines.findIndex((l) => l.trim() === expected[0]);
    assert.ok(start >= 0, preview.output);
    assert.deepEqual(
      lines.slice(start, start + expected.length).map((l) => l.slice(8)),
      expected,
      preview.output,
    );

    fs.writeFileSync(path.join(s.dir, "plain.txt"), "edited by hand");
    const refreshed = ok(await s.run("refresh"));
    assert.equal(ops(refreshed).plain, "update");
    assert.match(refreshed.output, /~ content: "plain" => "edited by hand"/);
  });
});
