import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import { lifeboat, spawnLifeboat } from "./cli";
import { waitFor } from "./wait";
import { makeDisk, randomWrites, tempDir } from "./helpers";

describe("the lifeboat CLI through a daemon (--endpoint)", () => {
  let dir: string;
  let vault: string;
  let daemon: ChildProcess;
  let endpoint: string;
  /** Every command goes through the API; the token comes from the admin.token the daemon wrote. */
  const remote = (...args: string[]) => lifeboat(["--vault", vault, "--endpoint", endpoint, ...args]);

  before(async () => {
    dir = tempDir();
    vault = path.join(dir, "vault");
    assert.equal((await lifeboat(["vault", "init", vault])).code, 0);
    daemon = spawnLifeboat(["--vault", vault, "serve", "--port", "0", "--tick-ms", "200"]);
    let log = "";
    daemon.stdout!.on("data", (c) => (log += c));
    endpoint = await waitFor(`the daemon to listen: ${log}`, () => /API at (\S+);/.exec(log)?.[1]);
    await makeDisk(path.join(dir, "os.img"), 16);
  });
  after(async () => {
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.once("close", r));
  });

  it("runs the same commands, with the same results and exit codes", async () => {
    assert.equal((await remote("site", "add", "hq", "--kind", "physical")).code, 0);
    const policy = await remote("policy", "add", "gold", "--copy-frequency", "5m", "--json");
    assert.equal(policy.code, 0, policy.stderr);
    assert.equal(JSON.parse(policy.stdout).failback.name, "gold-failback");
    const protect = await remote("protect", "vm", "--site", "hq", "--policy", "gold", "--disk", `os=${path.join(dir, "os.img")}:os`);
    assert.equal(protect.code, 0, protect.stderr);
    assert.match(protect.stdout, /EnableProtection vm: Succeeded/);
    await randomWrites(path.join(dir, "os.img"), 3);
    assert.equal((await remote("sync", "vm")).code, 0);
    const points = JSON.parse((await remote("points", "vm", "--json")).stdout) as Array<{ id: string }>;
    assert.equal(points.length, 2);
    const out = path.join(dir, "out");
    assert.equal((await remote("materialize", "vm", "--point", "latest", "--out", out)).code, 0);
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(path.join(dir, "os.img"))));
    const jobs = JSON.parse((await remote("jobs", "--json", "--target", "vm")).stdout) as Array<{ type: string }>;
    assert.deepEqual(
      jobs.map((j) => j.type),
      ["Materialize", "Replicate", "EnableProtection"],
    );
  });

  it("reports bad input with the field (exit 2), other failures with the reason (exit 1)", async () => {
    const bad = await remote("policy", "add", "silver", "--retention-hours", "100");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /retentionHours: must be at most 72 hours/);
    const missing = await remote("sync", "ghost");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /protected item 'ghost' does not exist/);
    const wrong = await lifeboat(["--vault", vault, "--endpoint", endpoint, "--token", "lbt_nope", "status"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /token is unknown, expired or revoked/);
    const down = await lifeboat(["--vault", vault, "--endpoint", "http://127.0.0.1:9", "status"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the engine at http:\/\/127\.0\.0\.1:9/);
  });
});
