// An agent on a KVM host: the daemon and the agent as two processes sharing only the network and the block
// store, and a machine served by the host's QEMU (qemu-storage-daemon) that only the agent talks to. The agent
// follows the disk's dirty bitmap like the engine does: its cycles read only what changed, and every point the
// daemon materializes is byte-exact against a `qemu-img convert` copy taken at its capture.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { JobView, PointView } from "../engine";
import { missingQemuTools, startStorageDaemon, writeThrough } from "./fixtures/qemu";
import { tempDir } from "./helpers";
import { delivered as deliveredBy, start, startDaemon, stop } from "./fixtures/daemon-and-agent";
import { waitFor } from "./wait";

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;

describe("an agent on a KVM host follows QEMU's dirty bitmaps", function () {
  this.timeout(300_000);
  let daemon: ReturnType<typeof start> | undefined;
  let agent: ReturnType<typeof start> | undefined;
  before(function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-img", "qemu-io"]);
    if (missing.length) {
      console.log(`      skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });
  after(async () => {
    await stop(agent?.child);
    await stop(daemon?.child);
  });

  it("initial replication and cycles through the agent read only the changed blocks, every point byte-exact", async () => {
    const root = tempDir("lb-agkv-");
    const engineDir = path.join(root, "engine-host");
    const agentDir = path.join(root, "kvm-host");
    await fs.mkdir(engineDir);
    await fs.mkdir(agentDir);
    const image = path.join(agentDir, "vm.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, String(24 * MiB)]);
    const qemu = await startStorageDaemon({ image, format: "qcow2", dir: agentDir, nbdSocket: path.join(agentDir, "qmp.sock.nbd") });
    writeThrough(qemu.liveUri, 0, 3 * MiB, 0x21);

    const vault = path.join(engineDir, "vault");
    const started = await startDaemon(vault, engineDir);
    daemon = started.daemon;
    const { endpoint, admin, key } = started;
    await admin.addSite({ name: "kv", kind: "kvm" });
    await admin.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24 });
    agent = start(
      [
        "agent",
        "--engine",
        endpoint,
        "--host",
        "kvm-a",
        "--site",
        "kv",
        "--registration-key",
        key,
        "--work-dir",
        "agent-state",
        "--store",
        path.join(vault, "store"),
        "--poll-ms",
        "200",
      ],
      agentDir,
    );
    await waitFor(`the agent to register: ${agent.output()}`, async () => (await admin.listSites())[0].hosts.includes("kvm-a"), undefined, 100);

    const delivered = (job: JobView) => deliveredBy(admin, job, agent!);
    const copy = async (name: string) => {
      const out = path.join(root, `${name}.raw`);
      execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "raw", qemu.liveUri, out]);
      return fs.readFile(out);
    };
    const copies = new Map<string, Buffer>();
    const before = await copy("initial");
    const protect = await admin.protect({
      name: "vm",
      site: "kv",
      host: "kvm-a",
      policy: "gold",
      qmp: qemu.qmpSocket,
      disks: [{ name: "os", node: "disk", os: true }],
    });
    const enabled = await delivered(protect);
    assert.equal(enabled.state, "Succeeded", JSON.stringify(enabled.error));
    copies.set((enabled.result as { point: string }).point, before);

    for (let n = 0; n < 3; n++) {
      writeThrough(qemu.liveUri, (5 + n) * MiB, 3000, 0x30 + n);
      const expected = await copy(`c${n}`);
      const job = await delivered(await admin.replicateNow("vm"));
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      const result = job.result as { points?: PointView[]; point?: string; bytesRead?: number };
      const id = result.points?.[0]?.id ?? result.point!;
      copies.set(id, expected);
      const point = (await admin.points("vm")).find((p) => p.id === id)!;
      assert.ok(point.bytesRead <= BLOCK, `the agent's tracked cycle read ${point.bytesRead} bytes for one changed block`);
    }
    const status = await admin.item("vm");
    assert.deepEqual(
      [status.disks[0].tracking, status.disks[0].trackingReset, status.health],
      ["dirty-bitmap", null, "Normal"],
      JSON.stringify(status.healthErrors),
    );
    assert.match(status.disks[0].checkpoint ?? "", /^lifeboat-\d+$/);
    for (const point of await admin.points("vm")) {
      const out = path.join(engineDir, "restore", point.id);
      const job = await admin.materialize("vm", point.id, out);
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
      assert.ok((await fs.readFile(path.join(out, "os"))).equals(copies.get(point.id)!), `point ${point.id} byte-exact`);
    }
    assert.doesNotMatch(daemon.output(), /replicated vm|initial replication of vm/, "the daemon itself must not read the agent's machine");
  });
});
