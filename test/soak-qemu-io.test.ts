// The kvm soak's guest writes: one long-running qemu-io per disk fed commands on stdin (bench/soak/soak-disk-sinks.ts).
// The soak's figures mean something only if every write it counts reached the disk through QEMU, and a write
// QEMU refuses fails rather than being counted.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { QemuIoSink } from "../bench/soak/soak-disk-sinks";
import { missingQemuTools, startStorageDaemon } from "./fixtures/qemu";
import { tempDir } from "./helpers";

const DISK_BYTES = 4 * 1024 * 1024;

describe("kvm soak: guest writes through a long-running qemu-io", function () {
  this.timeout(60_000);
  before(function () {
    const missing = missingQemuTools(["qemu-storage-daemon", "qemu-io", "qemu-img"]);
    if (missing.length) {
      console.log(`      skipped: missing ${missing.join(", ")}`);
      this.skip();
    }
  });

  it("each write is acknowledged only once it is on the disk, and a write past the end rejects naming qemu-io's error", async () => {
    const dir = tempDir("lb-soak-io-");
    const image = path.join(dir, "disk.raw");
    execFileSync("qemu-img", ["create", "-q", "-f", "raw", image, String(DISK_BYTES)]);
    const daemon = await startStorageDaemon({ image, format: "raw", dir });
    const sink = new QemuIoSink(daemon.liveUri);
    try {
      // The sink writes the first byte's value repeated (odd: never zero); 0x40 | 1 = 0x41.
      await sink.write(Buffer.from([0x40, 0, 0, 0]), 8192);
      await sink.write(Buffer.alloc(4096, 0x13), 65536);
      const bytes = await fs.readFile(image);
      assert.ok(bytes.subarray(8192, 8196).equals(Buffer.alloc(4, 0x41)), "first write on the disk");
      assert.ok(bytes.subarray(65536, 65536 + 4096).equals(Buffer.alloc(4096, 0x13)), "second write on the disk");
      assert.equal(
        bytes.subarray(0, 8192).some((b) => b !== 0),
        false,
        "nothing else written",
      );
      await assert.rejects(sink.write(Buffer.alloc(4096, 1), DISK_BYTES), /qemu-io on nbd\+unix/);
    } finally {
      await sink.close();
    }
  });
});
