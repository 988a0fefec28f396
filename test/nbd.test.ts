// The NBD client against real qemu-nbd servers: byte-exact reads (raw and qcow2, unaligned, split at the
// server's maximum, holes as zeros), block status (base:allocation, a qcow2 dirty bitmap) checked against
// the image and against libnbd's nbdinfo, clear errors for a wrong export, context or range, and a server
// killed with reads in flight.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { changedExtents, dirtyBitmapContext, NbdClient } from "../engine/nbd";
import { EngineError } from "../schema/errors";
import { nbdinfoMap, type QemuNbd, startQemuNbd, tool } from "./fixtures/qemu-nbd";
import { missingQemuTools } from "./fixtures/qemu";
import { tempDir } from "./helpers";
import { waitFor } from "./wait";

const MIB = 1024 * 1024;
const KIB = 1024;

/** A seeded generator, so a failing range can be read again. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Rejects with an EngineError of `code` whose message matches `pattern`. */
async function rejectsWith(work: Promise<unknown>, code: string, pattern: RegExp): Promise<EngineError> {
  const error = await work.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.match(error.message, pattern);
  return error;
}

describe("NBD client (engine/nbd) against qemu-nbd", () => {
  const dir = tempDir("lifeboat-nbd-");
  const servers: QemuNbd[] = [];
  const clients: NbdClient[] = [];
  const serve = async (name: string, args: string[]) => {
    const server = await startQemuNbd(dir, name, args);
    servers.push(server);
    return server;
  };
  const connect = async (...args: Parameters<typeof NbdClient.connect>) => {
    const client = await NbdClient.connect(...args);
    clients.push(client);
    return client;
  };

  before(async function () {
    const missing = missingQemuTools(["qemu-nbd", "qemu-img", "qemu-io", "nbdinfo"]);
    if (missing.length > 0) {
      console.log(`    skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  /** A 48 MiB raw image: random data in places, holes elsewhere. */
  async function rawImage(): Promise<{ file: string; bytes: Buffer }> {
    const file = path.join(dir, "disk.raw");
    const bytes = Buffer.alloc(48 * MIB);
    for (const [at, length] of [
      [0, 3 * MIB],
      [5 * MIB + 12345, 2 * MIB],
      [20 * MIB, 17 * MIB],
      [48 * MIB - 100 * KIB, 100 * KIB],
    ])
      randomBytes(length).copy(bytes, at);
    await fs.writeFile(file, bytes);
    // Punch the zero regions back into holes: the file is sparse, as a disk image is.
    await tool("fallocate", ["--dig-holes", file]);
    return { file, bytes };
  }

  it("reads random unaligned ranges of a raw image byte for byte, many in flight at once", async () => {
    const { file, bytes } = await rawImage();
    const server = await serve("raw", ["-f", "raw", "-r", file]);
    const client = await connect({ socket: server.socket }, { export: "" });
    assert.equal(client.size, bytes.length);
    const random = lcg(7);
    const ranges = Array.from({ length: 40 }, () => {
      const offset = Math.floor(random() * (bytes.length - 1));
      return { offset, length: Math.min(1 + Math.floor(random() * 3 * MIB), bytes.length - offset) };
    });
    const reads = await Promise.all(ranges.map(({ offset, length }) => client.read(offset, length)));
    for (const [i, { offset, length }] of ranges.entries()) {
      assert.ok(reads[i].equals(bytes.subarray(offset, offset + length)), `read of ${length} bytes at ${offset} differs from the image`);
    }
    // The last byte, and a read into the caller's buffer (the engine reads 4 MiB at a time into one).
    assert.ok((await client.read(bytes.length - 1, 1)).equals(bytes.subarray(-1)));
    const into = Buffer.alloc(4 * MIB + 7);
    const got = await client.read(20 * MIB + 1, 4 * MIB, into);
    assert.equal(got.buffer, into.buffer, "the read went into the buffer given");
    assert.ok(into.subarray(0, 4 * MIB).equals(bytes.subarray(20 * MIB + 1, 24 * MIB + 1)));
  });

  it("splits a read larger than the server's maximum (32 MiB for qemu-nbd) and reads holes as zeros", async () => {
    const { file, bytes } = await rawImage();
    const server = await serve("raw", ["-f", "raw", "-r", file]);
    const client = await connect({ socket: server.socket }, { export: "" });
    assert.equal(client.blockSizes.maximum, 32 * MIB);
    const length = 40 * MIB + 333;
    const into = Buffer.alloc(length, 0xff); // every byte a hole leaves must become zero
    await client.read(3, length, into);
    assert.ok(into.equals(bytes.subarray(3, 3 + length)), "a 40 MiB read across the 32 MiB maximum equals the image");
    const hole = await client.read(10 * MIB, 8 * MIB, Buffer.alloc(8 * MIB, 0xee));
    assert.ok(hole.equals(Buffer.alloc(8 * MIB)), "a hole reads as zeros");
  });

  it("honours the server's block sizes: unaligned reads against a 4 KiB minimum and a 64 KiB maximum", async () => {
    const { file, bytes } = await rawImage();
    const options = `driver=blkdebug,align=4096,max-transfer=65536,image.driver=raw,image.file.driver=file,image.file.filename=${file}`;
    const server = await serve("aligned", ["-r", "--image-opts", options]);
    const client = await connect({ socket: server.socket }, { export: "" });
    assert.deepEqual(client.blockSizes, { minimum: 4096, preferred: 4096, maximum: 65536 });
    for (const [offset, length] of [
      [1, 1],
      [4095, 2],
      [12345, 1 * MIB + 17],
      [bytes.length - 5000, 5000],
    ]) {
      assert.ok((await client.read(offset, length)).equals(bytes.subarray(offset, offset + length)), `read of ${length} at ${offset}`);
    }
  });

  it("reads a qcow2 image as its raw content: allocated clusters, unallocated ones as zeros", async () => {
    const image = path.join(dir, "disk.qcow2");
    await tool("qemu-img", ["create", "-q", "-f", "qcow2", image, "16M"]);
    await tool("qemu-io", [
      "-f",
      "qcow2",
      "-c",
      "write -P 0x5a 65536 200000",
      "-c",
      "write -P 0xc3 7340033 1048576",
      "-c",
      "write -P 0x11 16773120 4096",
      image,
    ]);
    const flat = path.join(dir, "disk-flat.raw");
    await tool("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", image, flat]);
    const bytes = await fs.readFile(flat);
    const server = await serve("qcow2", ["-f", "qcow2", "-r", image]);
    const client = await connect({ socket: server.socket }, { export: "", metaContexts: ["base:allocation"] });
    assert.equal(client.size, 16 * MIB);
    const whole = await client.read(0, client.size, Buffer.alloc(client.size, 0xff));
    assert.ok(whole.equals(bytes), "the whole export equals qemu-img convert's raw image");
    assert.ok((await client.read(65535, 200002)).equals(bytes.subarray(65535, 65535 + 200002)));
    // Allocation as the server reports it, checked against libnbd's own client.
    const extents = await client.blockStatus("base:allocation", 0, client.size);
    assert.deepEqual(extents, await nbdinfoMap(server.uri, "base:allocation"));
    const covered = extents.reduce((sum, e) => sum + e.length, 0);
    assert.equal(covered, client.size);
    const dataAt = (offset: number) => extents.find((e) => e.offset <= offset && offset < e.offset + e.length)?.flags;
    assert.equal(dataAt(65536), 0, "written data is allocated");
    assert.equal(dataAt(4 * MIB), 3, "never written: a hole that reads as zeros");
  });

  it("base:allocation of a sparse raw image: a part of the range, and the same as nbdinfo --map", async () => {
    const { file } = await rawImage();
    const server = await serve("raw", ["-f", "raw", "-r", file]);
    const client = await connect({ socket: server.socket }, { export: "", metaContexts: ["base:allocation"] });
    const all = await client.blockStatus("base:allocation", 0, client.size);
    assert.deepEqual(all, await nbdinfoMap(server.uri, "base:allocation"));
    assert.ok(all.some((e) => e.flags & 1) && all.some((e) => e.flags === 0), "holes and data both");
    // A range inside: cut to the range, still in order and covering it.
    const part = await client.blockStatus("base:allocation", 2 * MIB + 5, 20 * MIB);
    assert.equal(part[0].offset, 2 * MIB + 5);
    assert.equal(
      part.reduce((sum, e) => sum + e.length, 0),
      20 * MIB,
    );
    assert.equal(part[part.length - 1].offset + part[part.length - 1].length, 22 * MIB + 5);
  });

  it("a qcow2 dirty bitmap: changedExtents are the written ranges at the bitmap's granularity, as nbdinfo sees them", async () => {
    const image = path.join(dir, "tracked.qcow2");
    await tool("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]);
    await tool("qemu-img", ["bitmap", "--add", "--enable", "-g", "65536", image, "b0"]);
    const writes: Array<[number, number]> = [
      [100_000, 5000], // inside one 64 KiB granule: 65536..131072
      [1 * MIB, 64 * KIB], // exactly one granule
      [1 * MIB + 64 * KIB, 1], // the next granule: merges with the one before
      [10 * MIB - 1, 2], // across a granule boundary: two granules
      [64 * MIB - 4096, 4096], // the last granule
    ];
    await tool("qemu-io", ["-f", "qcow2", ...writes.flatMap(([at, length]) => ["-c", `write -P 0xab ${at} ${length}`]), image]);
    const server = await serve("tracked", ["-f", "qcow2", "-r", "-B", "b0", image]);
    const client = await connect({ socket: server.socket }, { export: "", metaContexts: [dirtyBitmapContext("b0")] });
    const changed = await changedExtents(client, "b0");
    assert.deepEqual(changed, [
      { offset: 65536, length: 65536 },
      { offset: 1 * MIB, length: 128 * KIB },
      { offset: 10 * MIB - 64 * KIB, length: 128 * KIB },
      { offset: 64 * MIB - 64 * KIB, length: 64 * KIB },
    ]);
    const theirs = (await nbdinfoMap(server.uri, dirtyBitmapContext("b0"))).filter((e) => e.flags & 1);
    assert.deepEqual(
      changed,
      theirs.map(({ offset, length }) => ({ offset, length })),
    );
  });

  it("an unknown export and an unknown meta context fail with errors naming them; the server still serves", async () => {
    const { file } = await rawImage();
    const server = await serve("named", ["-f", "raw", "-r", "-x", "disk0", file]);
    await rejectsWith(NbdClient.connect({ socket: server.socket }, { export: "nope" }), "DiskNotFound", /has no export 'nope'/);
    await rejectsWith(
      NbdClient.connect({ socket: server.socket }, { export: "disk0", metaContexts: ["base:allocation", "qemu:dirty-bitmap:gone"] }),
      "NbdContextUnavailable",
      /export 'disk0' does not offer meta context 'qemu:dirty-bitmap:gone'/,
    );
    await rejectsWith(NbdClient.connect({ socket: path.join(dir, "nobody.sock") }, { export: "" }), "ConnectionLost", /nobody\.sock: cannot connect/);
    const client = await connect({ socket: server.socket }, { export: "disk0", metaContexts: ["base:allocation"] });
    assert.equal(client.size, 48 * MIB);
    await rejectsWith(client.blockStatus("qemu:dirty-bitmap:b0", 0, 4096), "NbdContextUnavailable", /'qemu:dirty-bitmap:b0' was not negotiated/);
  });

  it("a read past the end, or of a bad range, is refused naming the property, and the connection goes on", async () => {
    const { file, bytes } = await rawImage();
    const server = await serve("raw", ["-f", "raw", "-r", file]);
    const client = await connect({ socket: server.socket }, { export: "" });
    const pastEnd = await rejectsWith(client.read(bytes.length - 10, 11), "InvalidInput", /go past the end of the export \(50331648 bytes\)/);
    assert.equal(pastEnd.field, "length");
    assert.equal((await rejectsWith(client.read(-1, 1), "InvalidInput", /offset/)).field, "offset");
    assert.equal((await rejectsWith(client.read(0, 100, Buffer.alloc(10)), "InvalidInput", /10 bytes/)).field, "into");
    assert.ok((await client.read(0, 4096)).equals(bytes.subarray(0, 4096)));
  });

  it("qemu-nbd killed (SIGKILL) with reads in flight: every waiting read rejects with ConnectionLost, and so does the next", async () => {
    const { file } = await rawImage();
    const server = await serve("slow", ["-f", "raw", "-r", file]);
    const client = await connect({ socket: server.socket }, { export: "" });
    await client.read(0, MIB);
    // Stopped (SIGSTOP), the server answers nothing: every read below is surely still waiting when it dies,
    // however long a loaded machine takes to get there.
    server.process.kill("SIGSTOP");
    const state = async () => (await fs.readFile(`/proc/${server.process.pid}/stat`, "utf8")).split(") ")[1]?.[0];
    await waitFor("qemu-nbd stopped", async () => (await state()) === "T");
    let settled = 0;
    const reads = Array.from({ length: 8 }, (_, i) => client.read(i * 2 * MIB, 2 * MIB).finally(() => settled++));
    const outcomes = Promise.allSettled(reads);
    assert.equal(settled, 0);
    await server.stop("SIGKILL");
    for (const outcome of await outcomes) {
      assert.equal(outcome.status, "rejected");
      const error = (outcome as PromiseRejectedResult).reason as EngineError;
      assert.equal(error.code, "ConnectionLost");
      assert.match(error.message, /NBD server at socket .*slow\.sock: connection (closed by the server|failed: .*) with \d+ requests? waiting/);
    }
    await rejectsWith(client.read(0, 4096), "ConnectionLost", /slow\.sock/);
  });

  it("an aborted or timed-out read rejects; its late reply is dropped and the connection goes on", async () => {
    const { file, bytes } = await rawImage();
    const options = `driver=throttle,throttle-group=tg0,file.driver=raw,file.file.driver=file,file.file.filename=${file}`;
    const server = await serve("slow", ["-r", "--object", "throttle-group,id=tg0,x-bps-read=2097152", "--image-opts", options]);
    const client = await connect({ socket: server.socket }, { export: "" });
    const controller = new AbortController();
    const into = Buffer.alloc(2 * MIB, 0x77);
    const aborted = client.read(0, 2 * MIB, into, { signal: controller.signal });
    controller.abort();
    await rejectsWith(aborted, "ConnectionLost", /read of 2097152 bytes at offset 0 was aborted/);
    // The next read is answered after the dropped one, and the caller's buffer was left alone.
    assert.ok((await client.read(5 * MIB + 12345, 4096)).equals(bytes.subarray(5 * MIB + 12345, 5 * MIB + 12345 + 4096)));
    assert.ok(into.equals(Buffer.alloc(2 * MIB, 0x77)), "an aborted read writes nothing into the caller's buffer");
    // qemu's throttle lets one request through, then holds the next until the bucket drains: at 2 MiB/s, seconds
    // after an 8 MiB read, far past a 100 ms timeout however loaded the machine.
    const impatient = await connect({ socket: server.socket }, { export: "", requestTimeoutMs: 100 });
    const outcomes = await Promise.allSettled([impatient.read(20 * MIB, 8 * MIB), impatient.read(28 * MIB, 8 * MIB)]);
    const timedOut = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => o.reason as EngineError);
    assert.ok(timedOut.length >= 1, "the held read timed out");
    for (const error of timedOut) {
      assert.equal(error.code, "ConnectionLost");
      assert.match(error.message, /read of 8388608 bytes at offset (20971520|29360128) had no reply within 100 ms/);
    }
  });
});
