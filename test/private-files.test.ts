import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { makeDisk, tempDir } from "./helpers";
import { CLI, vaultCli } from "./cli";
import { Daemon } from "../engine/server/launch";
import { loadState, saveState } from "./harness/state";

/** Every directory and file under `root` (root included) with its permission bits, as octal text. */
async function modes(root: string): Promise<Array<{ file: string; dir: boolean; mode: string }>> {
  const out: Array<{ file: string; dir: boolean; mode: string }> = [];
  const walk = async (at: string): Promise<void> => {
    const stats = await fs.lstat(at);
    out.push({ file: path.relative(root, at) || ".", dir: stats.isDirectory(), mode: (stats.mode & 0o777).toString(8) });
    if (stats.isDirectory()) for (const entry of await fs.readdir(at)) await walk(path.join(at, entry));
  };
  await walk(root);
  return out;
}

function assertPrivate(entries: Array<{ file: string; dir: boolean; mode: string }>): void {
  const open = entries.filter((e) => e.mode !== (e.dir ? "700" : "600"));
  assert.deepEqual(open, [], "every directory should be 0700 and every file 0600");
}

describe("private vault files", () => {
  const dir = tempDir();
  const vault = path.join(dir, "vault");
  const { ok } = vaultCli(() => vault);

  it("a vault's directories are 0700 and its files 0600 after init, replication, retention and a daemon's run, under umask 022", async () => {
    assert.equal(process.umask(), 0o022, "the test runs with the usual umask, which would make files 0644");
    await fs.mkdir(vault, { mode: 0o755 }); // an empty directory made by hand is tightened too
    await ok("vault", "init", vault);
    await makeDisk(path.join(dir, "os.img"), 64, 3);
    await ok("site", "add", "hq", "--kind", "hyperv", "--host", "hv01");
    await ok("policy", "add", "gold", "--copy-frequency", "30s", "--retention-hours", "24");
    await ok("protect", "vm1", "--site", "hq", "--host", "hv01", "--policy", "gold", "--disk", `os=${path.join(dir, "os.img")}:os`);
    await ok("sync", "vm1");
    await ok("retention");
    const daemon = await Daemon.start({ vault, logFile: path.join(dir, "daemon.log"), cli: CLI });
    assert.equal((await daemon.call<{ items: unknown[] }>("GET", "/v1/status")).items.length, 1);
    await daemon.stop(15_000);
    const entries = await modes(vault);
    for (const expected of ["catalog.sqlite", "lock.sqlite", "lock.sqlite.holder", "vault.json", "admin.token"])
      assert.ok(
        entries.some((e) => e.file === expected),
        `${expected} exists`,
      );
    assert.ok(
      entries.some((e) => e.file.endsWith(".pack")),
      "packs were written",
    );
    assertPrivate(entries);
  });

  it("the deployment harness keeps its state file and key 0600 in a 0700 directory", async () => {
    const stateDir = path.join(dir, "harness-state");
    const file = path.join(stateDir, "dev.json");
    saveState(file, {
      version: 1,
      resources: [
        { urn: "urn:pulumi:dev::p::t::r", type: "t", name: "r", custom: true, id: "r", inputs: {}, outputs: { key: "s3cret" }, secretOutputs: ["key"] },
      ],
    });
    assert.equal(loadState(file).resources[0].outputs.key, "s3cret");
    assertPrivate(await modes(stateDir));
  });
});
