import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Engine } from "../engine";
import { exists } from "../engine/io/exists";
import { hostname } from "node:os";
import { lifeboat, spawnLifeboat } from "./cli";
import { makeDisk, overwriteBlocks, snapshotTree, tempDir } from "./helpers";

const HOURS_AGO = () => new Date(Date.now() - 2 * 3600_000);

/** Files under dir whose names end with suffix, with their sizes. */
async function filesEnding(dir: string, suffix: string): Promise<Array<{ file: string; size: number }>> {
  return (await snapshotTree(dir))
    .map((line) => ({ file: path.join(dir, line.slice(0, line.lastIndexOf(" "))), size: Number(line.slice(line.lastIndexOf(" ") + 1)) }))
    .filter((f) => f.file.endsWith(suffix));
}

/** Wait until `done` holds or the child exits; true when it holds. */
async function until(child: ChildProcess, done: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

/** Whether a process has a file open whose name ends with suffix (a temporary file it is writing). */
async function writing(pid: number, suffix: string): Promise<boolean> {
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")).endsWith(suffix)) return true;
  return false;
}

/** The CLI as a child process, and a promise of its end (kill it with SIGKILL, then await it). */
function start(args: string[]): { child: ChildProcess; closed: Promise<unknown> } {
  const child = spawnLifeboat(args);
  return { child, closed: new Promise((r) => child.once("close", r)) };
}

describe("leftovers of killed processes are reported and collected", () => {
  it("a killed cycle's temporary pack and a killed materialize's partial disk: status counts the store's, GC keeps them while young and removes them once older than the grace", async () => {
    const dir = tempDir();
    const vault = path.join(dir, "vault");
    const disk = path.join(dir, "os.img");
    const out = path.join(dir, "restore");
    await makeDisk(disk, 4096, 1_000_000); // 256 MiB of random data
    const run = (...args: string[]) => lifeboat(["--vault", vault, ...args]);
    assert.equal((await run("vault", "init")).code, 0);
    await run("site", "add", "hq", "--kind", "physical");
    await run("policy", "add", "gold");
    assert.equal((await run("protect", "vm", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`)).code, 0);
    const store = path.join(vault, "store");

    // A materialize killed while it writes the disk: its partial file stays in the user's directory.
    const materialize = start(["--vault", vault, "materialize", "vm", "--point", "latest", "--out", out]);
    const partial = path.join(out, "os.partial");
    assert.ok(await until(materialize.child, () => exists(partial)), "the materialize started writing");
    materialize.child.kill("SIGKILL");
    await materialize.closed;
    assert.ok(await exists(partial), "the killed materialize left its partial file");

    // A cycle killed while it writes a pack (it holds the temporary file open); a cycle that got past it is simply tried again.
    for (let attempt = 0; attempt < 5 && (await filesEnding(store, ".tmp")).length === 0; attempt++) {
      await overwriteBlocks(disk, 0, 4096);
      const sync = start(["--vault", vault, "sync", "vm"]);
      await until(sync.child, () => writing(sync.child.pid!, ".tmp"));
      sync.child.kill("SIGKILL");
      await sync.closed;
    }
    const temps = await filesEnding(store, ".tmp");
    assert.ok(temps.length > 0, "a killed cycle left a temporary pack file");

    // status reports every store byte no index entry refers to: the killed cycle's packs and its temporary file.
    const engine = await Engine.open(vault);
    try {
      const indexed = new Set((await engine.vault.db.selectFrom("blocks").select("pack").distinct().execute()).map((r) => path.join(store, r.pack)));
      const orphans = (await filesEnding(store, ".pack")).filter((p) => !indexed.has(p.file));
      const unreferenced = [...orphans, ...temps].reduce((sum, f) => sum + f.size, 0);
      assert.equal((await engine.status()).vault.store.unreferencedBytes, unreferenced);
      const cli = await run("status", "--json");
      assert.equal(JSON.parse(cli.stdout).vault.store.unreferencedBytes, unreferenced);
      assert.match((await run("status")).stdout, / unreferenced /);

      // Young leftovers stay: their writer could be an agent still between its window and its report.
      const young = await engine.applyRetention();
      assert.equal(young.state, "Succeeded", JSON.stringify(young.error));
      assert.equal((young.result as { partialOutputsDeleted: number }).partialOutputsDeleted, 0);
      assert.deepEqual(await filesEnding(store, ".tmp"), temps);
      assert.ok(await exists(partial), "a young partial disk stays");

      // A partial file of a process that is still running stays however old it is.
      const alive = path.join(out, "other.partial");
      await fs.writeFile(alive, "being written");
      await engine.vault.db.insertInto("partial_outputs").values({ path: alive, host: hostname(), pid: process.pid, started_at: Date.now() }).execute();

      for (const f of [...temps, ...orphans, { file: partial }, { file: alive }]) await fs.utimes(f.file, HOURS_AGO(), HOURS_AGO());
      const old = await engine.applyRetention();
      assert.equal(old.state, "Succeeded", JSON.stringify(old.error));
      assert.equal((old.result as { partialOutputsDeleted: number }).partialOutputsDeleted, 1);
      assert.deepEqual(await filesEnding(store, ".tmp"), [], "old temporary pack files are removed");
      assert.equal(await exists(partial), false, "the killed materialize's partial disk is removed");
      assert.ok(await exists(alive), "the running process's partial file stays");
      assert.deepEqual(
        (await engine.vault.db.selectFrom("partial_outputs").select("path").execute()).map((r) => r.path),
        [alive],
      );
      assert.equal((await engine.status()).vault.store.unreferencedBytes, 0);

      // What the vault lists still comes back whole.
      const m = await engine.materialize("vm", "latest", path.join(dir, "check"));
      assert.equal(m.state, "Succeeded", JSON.stringify(m.error));
    } finally {
      await engine.close();
    }
  });
});
