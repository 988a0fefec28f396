import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { lifeboat, spawnLifeboat } from "./cli";
import { waitFor } from "./wait";
import { makeDisk, randomWrites, tempDir } from "./helpers";

describe("the lifeboat CLI", () => {
  let dir: string;
  let vault: string;
  const run = (...args: string[]) => lifeboat(["--vault", vault, ...args]);

  before(async () => {
    dir = tempDir();
    vault = path.join(dir, "vault");
    await makeDisk(path.join(dir, "os.img"), 16);
    await makeDisk(path.join(dir, "data.img"), 8);
  });

  it("creates a vault and shows its registration key once", async () => {
    const init = await lifeboat(["vault", "init", vault, "--json"]);
    assert.equal(init.code, 0, init.stderr);
    const out = JSON.parse(init.stdout) as { registrationKey: string; expiresAt: string };
    assert.match(out.registrationKey, /^[A-Za-z0-9_-]{43}$/);
    const catalog = await fs.readFile(path.join(vault, "catalog.sqlite"));
    assert.equal(catalog.includes(Buffer.from(out.registrationKey)), false, "only the key's hash is stored");
    const again = await lifeboat(["vault", "init", vault]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already a vault/);
  });

  it("adds sites and policies, rejecting bad flags with the field named and exit code 2", async () => {
    assert.equal((await run("site", "add", "hq", "--kind", "hyperv", "--host", "h1")).code, 0);
    const ok = await run(
      "policy",
      "add",
      "gold",
      "--copy-frequency",
      "30s",
      "--retention-hours",
      "24",
      "--app-consistent-hours",
      "4",
      "--rpo-threshold-minutes",
      "10",
      "--json",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).failback.name, "gold-failback");
    const bad = await run("policy", "add", "bad", "--copy-frequency", "1m", "--retention-hours", "x");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /copyFrequency: .*"30s"\|"5m"\|"15m"/);
    assert.match(bad.stderr, /retentionHours: .*number/);
    const list = JSON.parse((await run("policy", "list", "--json")).stdout) as Array<{ name: string }>;
    assert.deepEqual(
      list.map((p) => p.name),
      ["gold", "gold-failback"],
    );
  });

  it("protects a machine, replicates, lists points and materializes them byte for byte", async () => {
    const protect = await run(
      "protect",
      "vm1",
      "--site",
      "hq",
      "--host",
      "h1",
      "--policy",
      "gold",
      "--disk",
      `os=${path.join(dir, "os.img")}:os`,
      "--disk",
      `data=${path.join(dir, "data.img")}`,
      "--json",
    );
    assert.equal(protect.code, 0, protect.stderr);
    assert.equal(JSON.parse(protect.stdout).state, "Succeeded");
    await randomWrites(path.join(dir, "os.img"), 5);
    const sync = await run("sync", "vm1");
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, /Replicate vm1: Succeeded/);
    const points = JSON.parse((await run("points", "vm1", "--json")).stdout) as Array<{ id: string; kind: string }>;
    assert.equal(points.length, 2);
    const out = path.join(dir, "out");
    const m = await run("materialize", "vm1", "--point", "latest", "--out", out);
    assert.equal(m.code, 0, m.stderr);
    for (const disk of ["os", "data"]) assert.ok((await fs.readFile(path.join(out, disk))).equals(await fs.readFile(path.join(dir, `${disk}.img`))));
    const status = JSON.parse((await run("status", "--json")).stdout) as { items: Array<{ name: string; health: string; points: number }> };
    assert.deepEqual(
      status.items.map((i) => [i.name, i.health, i.points]),
      [["vm1", "Normal", 2]],
    );
    const jobs = JSON.parse((await run("jobs", "--json")).stdout) as Array<{ type: string; state: string }>;
    assert.deepEqual(
      jobs.map((j) => j.type),
      ["Materialize", "Replicate", "EnableProtection"],
    );
  });

  it("fails with the reason and a non-zero exit code", async () => {
    const missing = await run("protect", "vm2", "--site", "hq", "--policy", "gold", "--disk", `os=${path.join(dir, "nope.img")}:os`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /disks\.0\.path: .*nope\.img does not exist/);
    const unknown = await run("sync", "ghost");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /protected item 'ghost' does not exist/);
    const noPoint = await run("materialize", "vm1", "--point", "pt-nope", "--out", path.join(dir, "x"));
    assert.equal(noPoint.code, 1);
    assert.match(noPoint.stderr, /no recovery point 'pt-nope'/);
    const noVault = await lifeboat(["--vault", path.join(dir, "elsewhere"), "status"]);
    assert.equal(noVault.code, 1);
    assert.match(noVault.stderr, /no vault at/);
  });

  it("serve refuses a non-loopback address without TLS", async () => {
    const refused = await run("serve", "--host", "0.0.0.0", "--port", "0");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /listening on 0\.0\.0\.0 needs TLS: give --tls-cert and --tls-key/);
  });

  it("takes the vault from LIFEBOAT_VAULT", async () => {
    const status = await lifeboat(["status", "--json"], { LIFEBOAT_VAULT: vault });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).vault.dir, vault);
  });

  it("serve runs the scheduler, and CLI commands beside the daemon leave the vault consistent", async () => {
    await makeDisk(path.join(dir, "late.img"), 4);
    // Far enough ahead that the protect below, however slow the machine, comes before it.
    const start = new Date(Date.now() + 8000).toISOString();
    assert.equal((await run("policy", "add", "soon", "--initial-replication-start", start)).code, 0);
    assert.equal(
      JSON.parse((await run("protect", "late", "--site", "hq", "--policy", "soon", "--disk", `os=${path.join(dir, "late.img")}:os`, "--json")).stdout).state,
      "Suspended",
    );
    const daemon = spawnLifeboat(["--vault", vault, "serve", "--tick-ms", "100", "--port", "0"]);
    let log = "";
    daemon.stdout!.on("data", (chunk) => (log += chunk));
    try {
      // The daemon serves the API on loopback with the admin token it wrote beside the vault.
      const url = await waitFor(`the daemon to listen: ${log}`, () => /API at (\S+);/.exec(log)?.[1]);
      const token = (await fs.readFile(path.join(vault, "admin.token"), "utf8")).trim();
      assert.equal(((await fs.stat(path.join(vault, "admin.token"))).mode & 0o777).toString(8), "600");
      const api = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(api.status, 200);
      assert.deepEqual(
        ((await api.json()) as { items: Array<{ name: string }> }).items.map((i) => i.name),
        ["late", "vm1"],
      );
      assert.equal((await fetch(`${url}/v1/status`)).status, 401);
      // While the daemon serves, several CLI processes replicate at once; the vault lock serializes them.
      const syncs = await Promise.all(
        [1, 2, 3, 4].map(async () => {
          await randomWrites(path.join(dir, "os.img"), 3);
          return run("sync", "vm1");
        }),
      );
      for (const s of syncs) assert.equal(s.code, 0, s.stderr);
      await waitFor("the daemon to start the suspended initial replication at its start time", () => /initial replication of late/.test(log), undefined, 100);
    } finally {
      daemon.kill("SIGTERM");
      await new Promise((r) => daemon.once("close", r));
    }
    assert.match(log, /stopped/);
    const late = JSON.parse((await run("status", "late", "--json")).stdout);
    assert.equal(late.state, "Protected");
    const points = JSON.parse((await run("points", "vm1", "--json")).stdout) as Array<{ id: string }>;
    assert.equal(points.length, 6);
    for (const p of points) assert.equal((await run("materialize", "vm1", "--point", p.id, "--out", path.join(dir, "all", p.id))).code, 0);
    const last = path.join(dir, "all", points[5].id, "os");
    assert.ok((await fs.readFile(last)).equals(await fs.readFile(path.join(dir, "os.img"))));
  });
});
