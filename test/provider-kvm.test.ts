// A Pulumi program protecting a machine served by QEMU (the embedded default: the provider starts the vault's
// daemon), through the real cmd/run and dynamic-provider against a real qemu-storage-daemon: the preview says
// create, then update (not replace) when the disk's block node changes; a node QEMU lacks fails the preview
// naming the property; destroy takes the checkpoint bitmap out of QEMU.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineClient } from "../client/engine-client";
import { LOCAL_TOKEN_FILE } from "../engine/server/daemon-files";
import { blockNodes, QmpClient } from "../engine/qmp";
import { missingQemuTools, type StorageDaemon, startStorageDaemon } from "./fixtures/qemu";
import { tempDir } from "./helpers";
import { daemonRecord, harness, ok, ops, PULUMI_FIXTURES, withoutEndpoint } from "./pulumi-helpers";

describe("Pulumi provider: a machine on a kvm site, its disk a QEMU block node", function () {
  this.timeout(300_000);
  const root = tempDir("provider-kvm-");
  const vault = path.join(root, "vault");
  const daemons = withoutEndpoint();
  let qemu: StorageDaemon;
  let run: ReturnType<typeof harness>;

  before(async function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-img"]);
    if (missing.length) {
      console.log(`      skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
    const image = path.join(root, "disk.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "16M"]);
    qemu = await startStorageDaemon({ image, format: "qcow2", dir: root, nbdSocket: path.join(root, "qmp.sock.nbd") });
    run = harness(path.join(PULUMI_FIXTURES, "lifeboat-kvm"), tempDir("provider-kvm-state-"), { root, qmp: qemu.qmpSocket });
  });

  const engine = () => {
    const record = daemonRecord(vault);
    assert.ok(record, "the provider started the vault's daemon");
    daemons.started(record.pid);
    return new EngineClient(record.url, fs.readFileSync(path.join(vault, LOCAL_TOKEN_FILE), "utf8").trim(), { pollMs: 50 });
  };
  const bitmaps = async () => {
    const qmp = await QmpClient.connect(qemu.qmpSocket);
    try {
      return (await blockNodes(qmp)).find((n) => n.nodeName === "disk")!.dirtyBitmaps.map((b) => b.name);
    } finally {
      await qmp.close();
    }
  };

  it("preview plans the creates; up protects the machine through QEMU, tracked by its dirty bitmap", async () => {
    assert.deepEqual(ops(ok(await run("preview"))), { vault: "create", kv: "create", gold: "create", vm: "create" });
    ok(await run("up"));
    const item = await engine().item("vm");
    assert.equal(item.state, "Protected");
    assert.deepEqual([item.qmp, item.disks[0].path, item.disks[0].tracking], [qemu.qmpSocket, "disk", "dirty-bitmap"]);
    assert.equal((await bitmaps()).length, 1);
    assert.deepEqual(ops(ok(await run("preview"))), { vault: "same", kv: "same", gold: "same", vm: "same" }, "no perpetual diff");
  });

  it("another block node is an in-place update, and its checkpoint starts again", async () => {
    assert.equal(ops(ok(await run("preview", { node: "disk-file" }))).vm, "update");
    ok(await run("up", { node: "disk-file" }));
    const moved = await engine().item("vm");
    assert.deepEqual([moved.disks[0].path, moved.disks[0].checkpoint], ["disk-file", null]);
    ok(await run("up"));
    assert.equal((await engine().item("vm")).disks[0].path, "disk");
  });

  it("a node QEMU does not have fails the preview, naming the property and QEMU's nodes", async () => {
    const result = await run("preview", { node: "nope" });
    assert.equal(result.ok, false, result.output);
    assert.match(result.output, /disks\[0\]\.node|disks\.0\.node/);
    assert.match(result.output, /nope is not a block node of the QEMU at .* \(its named nodes: .*disk/);
  });

  it("destroy unprotects the machine, taking its checkpoint bitmap out of QEMU", async () => {
    assert.equal((await bitmaps()).length, 1);
    ok(await run("destroy"));
    assert.deepEqual(await bitmaps(), []);
  });
});
