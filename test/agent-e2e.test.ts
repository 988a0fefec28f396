import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { readJsonWhenReady, waitFor } from "./wait";
import { tempDir } from "./helpers";
import { delivered as deliveredBy, start, startDaemon, stop } from "./fixtures/daemon-and-agent";
import { checkDatabase, Workload } from "./fixtures/sqlite";
import type { JobView, PointView } from "../engine";

/**
 * The daemon and an agent as two processes that share nothing but the network and the block store:
 * separate working directories, and the machine's disks named by paths relative to the agent's, which
 * the daemon cannot even resolve. A live SQLite workload replicates through the agent; every point
 * the daemon materializes must open intact with every row committed before its capture.
 */
describe("an agent on another host replicates through the daemon", () => {
  let daemon: ReturnType<typeof start> | undefined;
  let agent: ReturnType<typeof start> | undefined;
  let workload: Workload | undefined;
  after(async () => {
    await workload?.stop();
    await stop(agent?.child);
    await stop(daemon?.child);
  });

  it("registers, protects a live SQLite machine, ships its cycles, and its points pass integrity check", async () => {
    const root = tempDir("lifeboat-agent-");
    const engineDir = path.join(root, "engine-host");
    const agentDir = path.join(root, "source-host");
    await fs.mkdir(path.join(agentDir, "data"), { recursive: true });
    await fs.mkdir(engineDir);
    const vault = path.join(engineDir, "vault");
    const started = await startDaemon(vault, engineDir);
    daemon = started.daemon;
    const { endpoint, admin, key } = started;
    await admin.addSite({ name: "hq", kind: "physical" });
    await admin.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24 });

    // The agent registers itself (the host is new to the site) with the key, then keeps its own token.
    const store = path.join(vault, "store");
    agent = start(
      [
        "agent",
        "--engine",
        endpoint,
        "--host",
        "host-a",
        "--site",
        "hq",
        "--registration-key",
        key,
        "--work-dir",
        "agent-state",
        "--store",
        store,
        "--poll-ms",
        "200",
      ],
      agentDir,
    );
    await waitFor(`the agent to register: ${agent.output()}`, async () => (await admin.listSites())[0].hosts.includes("host-a"), undefined, 100);
    // The host appears in the site before the agent has saved its identity: wait for the file, not the host.
    const identity = await waitFor(`the agent's identity file: ${agent.output()}`, () =>
      readJsonWhenReady<{ token: string }>(path.join(agentDir, "agent-state", "agent.json")),
    );
    assert.match(identity.token, /^lbt_/);
    assert.equal(((await fs.stat(path.join(agentDir, "agent-state"))).mode & 0o777).toString(8), "700");
    assert.equal(((await fs.stat(path.join(agentDir, "agent-state", "agent.json"))).mode & 0o777).toString(8), "600");

    const dbFile = path.join(agentDir, "data", "app.db");
    workload = new Workload(dbFile);
    await workload.until("ready", () => workload!.ready);
    await workload.until("a first commit", () => workload!.committed > 0);
    const pid = workload.pid;

    /** Wait for a job the agent completes; returns it finished. */
    const delivered = (job: JobView) => deliveredBy(admin, job, agent!);

    const committedBefore = new Map<string, number>();
    let floor = workload.committed;
    const protect = await admin.protect({
      name: "db",
      site: "hq",
      host: "host-a",
      policy: "gold",
      // Relative to the agent's working directory: only the agent can find them.
      disks: [
        { name: "app.db", path: "data/app.db", os: true },
        { name: "app.db-wal", path: "data/app.db-wal" },
      ],
      hooks: { pause: `kill -STOP ${pid}`, resume: `kill -CONT ${pid}` },
    });
    // It waits for the agent (unless the agent, calling in every 200 ms, was done before the client looked).
    if (protect.state === "Suspended") assert.deepEqual(protect.result, { waitingFor: "the agent on host host-a" });
    else assert.equal(protect.state, "Succeeded", JSON.stringify(protect.error));
    const waiting = (await admin.jobs({ target: "db" }))[0];
    assert.ok(
      waiting.tasks.some((t) => t.name === "Initial replication"),
      "the job shows its tasks",
    );
    const enabled = await delivered(protect);
    assert.equal(enabled.state, "Succeeded", JSON.stringify(enabled.error));
    committedBefore.set((enabled.result as { point: string }).point, floor);

    for (let cycle = 0; cycle < 3; cycle++) {
      const previous = workload.committed;
      await workload.until(`commits before cycle ${cycle}`, () => workload!.committed > previous + 50);
      floor = workload.committed;
      const job = await delivered(await admin.replicateNow("db"));
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      const [point] = (job.result as { points?: PointView[]; point?: string }).points ?? [];
      const id = point?.id ?? (job.result as { point: string }).point;
      committedBefore.set(id, floor);
    }
    workload.check();

    const points = await admin.points("db");
    assert.deepEqual(
      points.map((p) => p.id),
      [...committedBefore.keys()],
      "exactly the points the agent delivered, oldest first",
    );
    const status = await admin.item("db");
    assert.equal(status.health, "Normal", JSON.stringify(status.healthErrors));
    assert.deepEqual({ host: status.agent?.host, silent: status.agent?.silent }, { host: "host-a", silent: false });
    const metrics = await fetch(new URL("/metrics", endpoint), {
      headers: { authorization: `Bearer ${(await fs.readFile(path.join(vault, "admin.token"), "utf8")).trim()}` },
    }).then((r) => r.text());
    assert.match(metrics, /lifeboat_item_rpo_seconds\{item="db"\} \d+/);

    // The daemon materializes from the shared store what the agent wrote; each copy opens intact.
    for (const [i, point] of points.entries()) {
      const out = path.join(engineDir, "restore", String(i));
      const job = await admin.materialize("db", point.id, out);
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      const rows = checkDatabase(path.join(out, "app.db"), `point ${i}`);
      assert.ok(rows >= committedBefore.get(point.id)!, `point ${i}: ${rows} rows, but ${committedBefore.get(point.id)} were committed before its capture`);
    }
    // The blocks came from the agent's packs: the store holds them, the daemon never read the disks.
    const stats = (await admin.status()).vault.store;
    assert.ok(stats.blocks > 0 && stats.storedBytes > 0);
    assert.doesNotMatch(daemon.output(), /replicated db|initial replication of db/, "the daemon itself must not replicate an agent's machine");
  });
});
