// The quickstart example through a real `pulumi` binary with a local file backend, when one is on PATH
// (users have it; these machines cannot install it, so here the run is skipped with a message and the
// harness runs of test/examples.test.ts stand for it).
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { Daemon } from "../engine/server/launch";
import { EngineClient } from "../client/engine-client";
import { Engine } from "../engine";
import { CLI } from "./cli";
import { tempDir } from "./helpers";

const exec = promisify(execFile);

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, binary);
    if (dir && fs.existsSync(file)) return file;
  }
  return undefined;
}

describe("examples through the real pulumi CLI", function () {
  this.timeout(600_000);
  const pulumi = onPath("pulumi");

  before(function () {
    if (!pulumi) {
      console.log("      (skipped: no `pulumi` binary on PATH; the same programs run through the deployment harness in 'examples')");
      this.skip();
    }
  });

  it("quickstart: preview, up, preview --expect-no-changes, refresh, destroy", async () => {
    const dir = tempDir("pulumi-cli-");
    const vault = path.join(dir, "vault");
    await (await Engine.init(vault)).engine.close();
    const daemon = await Daemon.start({ vault, logFile: path.join(dir, "daemon.log"), cli: CLI });
    try {
      const engine = new EngineClient(daemon.url, daemon.token);
      const project = path.resolve(__dirname, "..", "examples", "quickstart");
      const configFile = path.join(dir, "Pulumi.test.yaml"); // not in the repository
      const env = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: "lifeboat-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      };
      const cli = (...args: string[]) => exec(pulumi!, [...args, "--non-interactive", "--stack", "test"], { cwd: project, env, maxBuffer: 64 << 20 });
      await exec(pulumi!, ["stack", "init", "test", "--non-interactive"], { cwd: project, env });
      for (const [key, value] of [
        ["vaultPath", vault],
        ["dataDir", path.join(dir, "data")],
        ["lifeboat:endpoint", daemon.url],
      ])
        await cli("config", "set", key, value, "--config-file", configFile);
      await cli("config", "set", "--secret", "lifeboat:token", daemon.token, "--config-file", configFile);

      await cli("preview", "--config-file", configFile);
      assert.deepEqual((await engine.status()).items, [], "preview created nothing");
      await cli("up", "--yes", "--skip-preview", "--config-file", configFile);
      assert.deepEqual((await engine.status()).items.map((i) => [i.name, i.state]).sort(), [
        ["db", "Protected"],
        ["web", "Protected"],
      ]);
      await cli("preview", "--expect-no-changes", "--config-file", configFile);
      await cli("refresh", "--yes", "--config-file", configFile);
      await cli("destroy", "--yes", "--config-file", configFile);
      assert.deepEqual((await engine.status()).items, []);
      await cli("stack", "rm", "--yes");
    } finally {
      await daemon.stop(15_000);
    }
  });
});
