// The QMP client and the dirty-bitmap and fleecing operations against a real qemu-storage-daemon: the
// guest's writes go through its writable NBD export (qemu-io), bitmaps are read back over NBD with
// libnbd's nbdinfo, and the point-in-time view is copied with nbdcopy.
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { EngineError } from "../engine/errors";
import { addBitmap, blockNode, blockNodes, endFleece, QmpClient, QmpCommandError, removeBitmap, rotateCheckpoint, startFleece } from "../engine/qmp";
import { dirtyExtents, missingQemuTools, type StorageDaemon, startStorageDaemon, writeThrough } from "./fixtures/qemu";
import { tempDir } from "./helpers";
import { waitFor } from "./wait";

const MiB = 1024 * 1024;
const K64 = 64 * 1024;

async function rawImage(file: string, size: number): Promise<void> {
  await fs.writeFile(file, randomBytes(size));
}

function qcow2Image(file: string, size: number): void {
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", file, String(size)]);
}

/** Export the disk node read-only with `bitmaps` (which QEMU allows only for disabled ones) to read them back. */
async function exportBitmaps(client: QmpClient, daemon: StorageDaemon, name: string, bitmaps: string[]): Promise<string> {
  await client.execute("block-export-add", { type: "nbd", id: name, "node-name": daemon.node, name, bitmaps });
  return `nbd+unix:///${name}?socket=${daemon.nbdSocket}`;
}

const rejection = async (promise: Promise<unknown>): Promise<EngineError> => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EngineError, `an EngineError, not ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
};

describe("QMP client with qemu-storage-daemon", () => {
  before(function () {
    const missing = missingQemuTools();
    if (missing.length) {
      console.log(`    skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  const dir = tempDir("lifeboat-qmp-");
  const clients: QmpClient[] = [];
  const connect = async (daemon: StorageDaemon) => {
    const client = await QmpClient.connect(daemon.qmpSocket);
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  async function daemonFor(name: string, format: "raw" | "qcow2", size = 4 * MiB) {
    const home = path.join(dir, name);
    await fs.mkdir(home);
    const image = path.join(home, `disk.${format}`);
    if (format === "raw") await rawImage(image, size);
    else qcow2Image(image, size);
    const start = () => startStorageDaemon({ image, format, dir: home });
    return { home, image, start, daemon: await start() };
  }

  it("greets, negotiates capabilities, answers a command and events, and names an unknown node in QEMU's error", async () => {
    const { daemon } = await daemonFor("basics", "raw");
    const client = await connect(daemon);
    assert.ok((client.greeting?.version.qemu.major ?? 0) >= 7, JSON.stringify(client.greeting));
    const disk = await blockNode(client, daemon.node);
    assert.deepEqual([disk.driver, disk.size, disk.dirtyBitmaps], ["raw", 4 * MiB, []]);

    const error = await rejection(addBitmap(client, "no-such-node", "b0"));
    assert.ok(error instanceof QmpCommandError);
    assert.equal(error.code, "QmpCommandFailed");
    assert.equal(error.qmpClass, "GenericError");
    assert.match(error.message, /^QMP block-dirty-bitmap-add failed \(GenericError\): .*'no-such-node'/);
    const missing = await rejection(blockNode(client, "no-such-node"));
    assert.equal(missing.code, "NotFound");
    assert.match(missing.message, /no block node 'no-such-node'/);

    // An event arrives by name and as "event": removing an export announces BLOCK_EXPORT_DELETED.
    await exportBitmaps(client, daemon, "probe", []);
    const deleted = new Promise((resolve) => client.once("BLOCK_EXPORT_DELETED", resolve));
    await client.execute("block-export-del", { id: "probe" });
    assert.deepEqual(await deleted, { id: "probe" });
  });

  it("a second client is refused with a clear error while the monitor serves the first; a missing socket too", async () => {
    const { daemon, home } = await daemonFor("second", "raw");
    await connect(daemon);
    const busy = await rejection(QmpClient.connect(daemon.qmpSocket, { greetingTimeoutMs: 1_000 }));
    assert.equal(busy.code, "ConnectionLost");
    assert.match(busy.message, /no QMP greeting .* another client holding the monitor/);
    const gone = await rejection(QmpClient.connect(path.join(home, "none.sock")));
    assert.equal(gone.code, "ConnectionLost");
    assert.match(gone.message, /cannot connect to the QMP socket .*none\.sock/);
  });

  it("a peer that does not speak QMP is refused: no greeting, or a broken line while a command waits", async () => {
    const home = path.join(dir, "not-qmp");
    await fs.mkdir(home);
    const serve = async (name: string, onConnection: (socket: net.Socket) => void) => {
      const server = net.createServer(onConnection);
      const socketPath = path.join(home, name);
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      after(() => server.close());
      return socketPath;
    };
    const noGreeting = await serve("hello.sock", (socket) => socket.end('{"hello": 1}\n'));
    const refused = await rejection(QmpClient.connect(noGreeting));
    assert.equal(refused.code, "QmpProtocolError");
    assert.match(refused.message, /hello\.sock sent a first line that is not a QMP greeting/);

    // Greets and negotiates like QEMU, then answers the next command with a line that is not JSON.
    const broken = await serve("broken.sock", (socket) => {
      socket.write('{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""}, "capabilities": []}}\r\n');
      let commands = 0;
      socket.on("data", () => socket.write(++commands === 1 ? '{"return": {}, "id": 1}\r\n' : "<html>\r\n"));
    });
    const client = await QmpClient.connect(broken);
    const error = await rejection(client.execute("query-version"));
    assert.equal(error.code, "QmpProtocolError");
    assert.match(error.message, /QMP query-version did not complete: .*broken\.sock sent a line that is not JSON: <html>/);
  });

  it("a checkpoint rotation in one transaction: writes before it only in the old bitmap, writes after only in the new", async () => {
    const { daemon } = await daemonFor("rotate", "raw");
    const client = await connect(daemon);
    await addBitmap(client, daemon.node, "c1", { granularity: K64 });
    writeThrough(daemon.liveUri, 0, K64, 0xab);
    writeThrough(daemon.liveUri, MiB, 2 * K64, 0xab);
    await rotateCheckpoint(client, daemon.node, "c1", "c2");
    writeThrough(daemon.liveUri, 3 * MiB, K64, 0xcd);
    await rotateCheckpoint(client, daemon.node, "c2", "c3");

    const bitmaps = (await blockNode(client, daemon.node)).dirtyBitmaps;
    assert.deepEqual(
      bitmaps.map((b) => [b.name, b.recording, b.persistent, b.granularity]).sort(),
      [
        ["c1", false, false, K64],
        ["c2", false, false, K64],
        ["c3", true, false, K64],
      ],
      JSON.stringify(bitmaps),
    );
    const uri = await exportBitmaps(client, daemon, "check", ["c1", "c2"]);
    assert.deepEqual(dirtyExtents(uri, "c1"), [
      { offset: 0, length: K64 },
      { offset: MiB, length: 2 * K64 },
    ]);
    assert.deepEqual(dirtyExtents(uri, "c2"), [{ offset: 3 * MiB, length: K64 }]);

    // A rotation from a bitmap that is not there is refused, naming it, and adds nothing.
    const lost = await rejection(rotateCheckpoint(client, daemon.node, "c9", "c10"));
    assert.equal(lost.code, "NotFound");
    assert.match(lost.message, /no dirty bitmap 'c9'/);
    const disabled = await rejection(rotateCheckpoint(client, daemon.node, "c1", "c10"));
    assert.equal(disabled.code, "Conflict");
    assert.match(disabled.message, /'c1' .* is not recording/);
    assert.deepEqual((await blockNode(client, daemon.node)).dirtyBitmaps.map((b) => b.name).sort(), ["c1", "c2", "c3"]);
    await client.execute("block-export-del", { id: "check" });
    await removeBitmap(client, daemon.node, "c1");
    assert.deepEqual((await blockNode(client, daemon.node)).dirtyBitmaps.map((b) => b.name).sort(), ["c2", "c3"]);
  });

  it("on qcow2 a persistent bitmap survives a graceful restart; a non-persistent one is lost", async () => {
    const { daemon, start } = await daemonFor("persist", "qcow2");
    let client = await connect(daemon);
    await addBitmap(client, daemon.node, "kept", { persistent: true });
    await addBitmap(client, daemon.node, "memory-only");
    writeThrough(daemon.liveUri, K64, K64, 0x11);
    await client.close();
    await daemon.stop();

    const again = await start();
    client = await connect(again);
    const bitmaps = (await blockNode(client, again.node)).dirtyBitmaps;
    assert.deepEqual(
      bitmaps.map((b) => ({ name: b.name, persistent: b.persistent, recording: b.recording, inconsistent: b.inconsistent, count: b.count })),
      [{ name: "kept", persistent: true, recording: true, inconsistent: false, count: K64 }],
    );
  });

  it("after kill -9 a persistent bitmap comes back inconsistent and not recording, and a rotation from it is refused", async () => {
    const { daemon, start } = await daemonFor("killed", "qcow2");
    let client = await connect(daemon);
    await addBitmap(client, daemon.node, "c1", { persistent: true });
    await client.close();
    // Stored cleanly once (a restart), then in use (QEMU marks it in the image) when QEMU is killed.
    await daemon.stop();
    const second = await start();
    client = await connect(second);
    writeThrough(second.liveUri, 0, K64, 0x22);
    await second.kill();

    const third = await start();
    client = await connect(third);
    const [bitmap] = (await blockNode(client, third.node)).dirtyBitmaps;
    assert.deepEqual([bitmap?.name, bitmap?.inconsistent, bitmap?.recording, bitmap?.persistent], ["c1", true, false, true], JSON.stringify(bitmap));
    const refused = await rejection(rotateCheckpoint(client, third.node, "c1", "c2"));
    assert.equal(refused.code, "Conflict");
    assert.match(refused.message, /'c1' .* is inconsistent/);
    // The only way on: remove it (the tracker then resyncs and starts a new checkpoint).
    await removeBitmap(client, third.node, "c1");
    assert.deepEqual((await blockNode(client, third.node)).dirtyBitmaps, []);
  });

  it("fleecing: the view is the disk at the checkpoint while the live disk moves on; endFleece leaves nothing", async () => {
    const { daemon, image, home } = await daemonFor("fleece", "raw");
    const client = await connect(daemon);
    const before = await fs.readFile(image);
    await addBitmap(client, daemon.node, "c1");
    writeThrough(daemon.liveUri, 2 * MiB, K64, 0x33);
    const atCapture = await fs.readFile(image);
    const nodesBefore = (await blockNodes(client)).map((n) => n.nodeName).sort();
    const scratch = path.join(home, "scratch");
    await fs.mkdir(scratch);

    const fleece = await startFleece(client, { node: daemon.node, dir: scratch, nbdSocket: daemon.nbdSocket, checkpoint: { current: "c1", next: "c2" } });
    assert.deepEqual(await fs.readdir(scratch), [path.basename(fleece.overlayPath)]);
    writeThrough(daemon.liveUri, 0, MiB, 0x44);
    writeThrough(daemon.liveUri, 2 * MiB, 2 * K64, 0x55);
    const copy = path.join(home, "view.raw");
    execFileSync("nbdcopy", [fleece.uri, copy]);
    assert.ok((await fs.readFile(copy)).equals(atCapture), "the view is the disk as it was at the checkpoint");
    assert.ok(!atCapture.equals(before));
    const live = await fs.readFile(image);
    assert.ok(live.subarray(0, MiB).equals(Buffer.alloc(MiB, 0x44)), "the live disk has the writes made during the view");
    // The view carries the old checkpoint's list; the writes during the view are in the new one only.
    assert.deepEqual(dirtyExtents(fleece.uri, "c1"), [{ offset: 2 * MiB, length: K64 }]);
    const c2 = (await blockNode(client, daemon.node)).dirtyBitmaps.find((b) => b.name === "c2");
    assert.deepEqual([c2?.recording, c2?.count], [true, MiB + 2 * K64]);

    // A reader still connected (qemu-io waits on its stdin) does not keep the view alive: its connection is dropped.
    const reader = spawn("qemu-io", ["-f", "raw", "-r", fleece.uri], { stdio: ["pipe", "pipe", "pipe"] });
    const readerExited = new Promise((resolve) => reader.once("exit", resolve));
    after(() => reader.kill("SIGKILL"));
    let read = "";
    reader.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      read += chunk;
    });
    reader.stdin.write("read 0 512\n");
    await waitFor("qemu-io reading the view", () => read.includes("read 512/512 bytes"));
    await endFleece(client, fleece);
    reader.stdin.end();
    await readerExited;
    assert.deepEqual((await blockNodes(client)).map((n) => n.nodeName).sort(), nodesBefore);
    assert.deepEqual(await fs.readdir(scratch), []);
    assert.deepEqual(
      (await client.execute<{ id: string }[]>("query-block-exports")).map((e) => e.id),
      ["live"],
    );
    assert.deepEqual(await client.execute("query-block-jobs"), []);
    await endFleece(client, fleece); // twice is harmless
  });

  it("a fleece that fails part way (the transaction refused) undoes what it made and changes no bitmap", async () => {
    const { daemon, home } = await daemonFor("partial", "qcow2");
    const client = await connect(daemon);
    await addBitmap(client, daemon.node, "c1", { persistent: true });
    await addBitmap(client, daemon.node, "c2");
    const nodesBefore = (await blockNodes(client)).map((n) => n.nodeName).sort();
    // `next` exists already: QEMU refuses the whole transaction after the overlay's nodes were added.
    const error = await rejection(
      startFleece(client, { node: daemon.node, dir: home, nbdSocket: daemon.nbdSocket, checkpoint: { current: "c1", next: "c2" } }),
    );
    assert.equal(error.code, "QmpCommandFailed");
    assert.match(error.message, /transaction .*c2/);
    assert.deepEqual((await blockNodes(client)).map((n) => n.nodeName).sort(), nodesBefore);
    assert.deepEqual(
      (await fs.readdir(home)).filter((f) => f.endsWith(".qcow2")),
      ["disk.qcow2"],
    );
    const c1 = (await blockNode(client, daemon.node)).dirtyBitmaps.find((b) => b.name === "c1");
    assert.equal(c1?.recording, true, "the transaction did not disable c1");
    assert.deepEqual(await client.execute("query-jobs"), []);
  });

  it("QEMU killed with a command in flight: the command rejects with ConnectionLost naming it, and so does every later one", async () => {
    const { daemon } = await daemonFor("killed-in-flight", "raw");
    const client = await connect(daemon);
    // Stopped, QEMU cannot answer: the command is surely in flight when the kill comes.
    daemon.process.kill("SIGSTOP");
    const inFlight = rejection(client.execute("query-named-block-nodes"));
    const closed = new Promise((resolve) => client.once("close", resolve));
    await daemon.kill();
    const error = await inFlight;
    assert.equal(error.code, "ConnectionLost");
    assert.equal(error.recoverable, true);
    assert.match(error.message, /QMP query-named-block-nodes did not complete: the QMP connection to .*qmp\.sock (closed|failed)/);
    await closed;
    assert.equal(client.closed, true);
    const later = await rejection(blockNodes(client));
    assert.equal(later.code, "ConnectionLost");
  });
});
