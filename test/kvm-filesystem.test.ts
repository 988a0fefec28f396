// A real filesystem workload on a disk served by QEMU: ext4 made on the disk and loop-mounted through a FUSE
// export of QEMU's own block node (so every write the kernel makes passes through QEMU and its dirty bitmap),
// files written by the kernel's filesystem, app-consistent points taken with fsfreeze as the quiesce hook and
// crash-consistent ones without. Every point must pass e2fsck and hold each file as it was at its capture.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, promises as fs, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { missingQemuTools, startStorageDaemon } from "./fixtures/qemu";
import { kvmVault, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const run = (command: string, args: string[]) => execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Every regular file under `dir` (relative path → sha256). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = sha(await fs.readFile(file));
  }
  return out;
}

/** Can this process mount filesystems (root, with /dev/fuse and loop devices)? */
function cannotMount(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (loop mounts need it)";
  for (const tool of ["mkfs.ext4", "e2fsck", "fsfreeze", "losetup", "mount"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is missing (Debian package e2fsprogs / util-linux / mount)`;
    }
  }
  return undefined;
}

describe("kvm: an ext4 filesystem on the disk, written by the kernel through QEMU", function () {
  this.timeout(300_000);
  const cleanups: Array<() => void | Promise<void>> = [];
  before(function () {
    const missing = [...missingQemuTools(["qemu-storage-daemon", "qemu-img"]), ...[cannotMount()].filter((m): m is string => m !== undefined)];
    if (missing.length) {
      console.log(`      skipped: ${missing.join(", ")}`);
      this.skip();
    }
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort: a mount already gone
      }
    }
  });

  it("app-consistent points (fsfreeze) and crash-consistent ones: each passes e2fsck and holds every file as at its capture", async () => {
    const dir = tempDir("lb-kvfs-");
    const image = path.join(dir, "vm.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, String(64 * MiB)]);
    // The FUSE mount's file is removed only after QEMU ends the export (a tempDir would be removed first, busy).
    const mounts = mkdtempSync(path.join(os.tmpdir(), "lb-kvfs-fuse-"));
    const device = path.join(mounts, "disk");
    await fs.writeFile(device, "");
    const daemon = await startStorageDaemon({ image, format: "qcow2", dir, nbdSocket: path.join(dir, "qmp.sock.nbd"), fuse: device });
    cleanups.push(() => rmSync(mounts, { recursive: true, force: true }));
    // SIGTERM: QEMU ends its FUSE export and unmounts it (a killed QEMU would leave the mount behind).
    cleanups.push(async () => {
      await daemon.stop();
      spawnSync("umount", ["-l", device]);
    });
    run("mkfs.ext4", ["-q", "-F", device]);
    const mnt = path.join(dir, "mnt");
    await fs.mkdir(mnt);
    run("mount", ["-o", "loop", device, mnt]);
    cleanups.push(() => void run("umount", [mnt]));

    const { engine, clock } = await kvmVault(path.join(dir, "v"));
    const job = await engine.protect({
      name: "vm",
      site: "kv",
      policy: "gold",
      qmp: daemon.qmpSocket,
      disks: [{ name: "os", node: "disk", os: true }],
      hooks: { quiesce: `fsfreeze -f ${mnt}`, unquiesce: `fsfreeze -u ${mnt}` },
    });
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));

    const expected = new Map<string, { files: Record<string, string>; app: boolean }>();
    for (let round = 0; round < 4; round++) {
      // The workload: new files, rewritten ones, a directory, a deletion; synced before a crash-consistent capture.
      await fs.mkdir(path.join(mnt, `dir${round}`), { recursive: true });
      for (let n = 0; n < 5; n++) await fs.writeFile(path.join(mnt, `dir${round}`, `f${n}.bin`), randomBytes(10_000 + round * 50_000 + n * 7_000));
      await fs.writeFile(path.join(mnt, "log.txt"), `round ${round}\n`.repeat(1000 * (round + 1)));
      if (round > 0) await fs.rm(path.join(mnt, `dir${round - 1}`, "f0.bin"));
      const app = round % 2 === 0;
      if (!app) run("sync", []);
      const files = await tree(mnt);
      clock.advance(30_000);
      const sync = await engine.replicateNow("vm", { appConsistent: app });
      assert.equal(sync.state, "Succeeded", JSON.stringify(sync.error));
      const [point] = (sync.result as { points: Array<{ id: string; kind: string; bytesRead: number }> }).points;
      assert.equal(point.kind, app ? "app" : "crash");
      assert.ok(point.bytesRead < 32 * MiB, `a tracked cycle reads what the filesystem changed, not the 64 MiB disk (read ${point.bytesRead})`);
      expected.set(point.id, { files, app });
    }

    for (const [id, want] of expected) {
      const out = path.join(dir, "restore", id);
      assert.equal((await engine.materialize("vm", id, out)).state, "Succeeded");
      const copy = path.join(out, "os");
      // A crash-consistent image may need its journal replayed (as after a power cut); an app-consistent one must be clean as it is.
      if (!want.app) {
        // Exit 1: "errors corrected", which a journal replay is; anything above is damage.
        const replay = spawnSync("e2fsck", ["-fy", copy], { encoding: "utf8" });
        assert.ok(
          replay.status === 0 || replay.status === 1,
          `e2fsck -fy of crash-consistent point ${id}: exit ${replay.status}\n${replay.stdout}${replay.stderr}`,
        );
      }
      run("e2fsck", ["-fn", copy]);
      const view = path.join(dir, "view");
      await fs.mkdir(view, { recursive: true });
      run("mount", ["-o", "loop,ro", copy, view]);
      try {
        assert.deepEqual(await tree(view), want.files, `point ${id} (${want.app ? "app" : "crash"}-consistent) holds every file as at its capture`);
      } finally {
        run("umount", [view]);
      }
    }
  });
});
