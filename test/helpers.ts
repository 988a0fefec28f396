import { promises as fs, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Engine, ManualClock } from "../engine";
import type { VaultOptions } from "../engine/vault";
import { FaultyStore } from "./fixtures/faulty-store";
import { unlessMissing } from "../engine/io/exists";

/** A temporary directory removed after the current mocha suite. */
export function tempDir(prefix = "lifeboat-test-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A disk image of `blocks` 64 KiB blocks: random data with every `zeroEvery`-th block left zero. */
export async function makeDisk(file: string, blocks: number, zeroEvery = 4): Promise<void> {
  const parts: Buffer[] = [];
  for (let i = 0; i < blocks; i++) parts.push(i % zeroEvery === 0 ? Buffer.alloc(65536) : randomBytes(65536));
  await fs.writeFile(file, Buffer.concat(parts));
}

/** Overwrite `count` random ranges of a file with random bytes (sizes up to `maxLength`). */
export async function randomWrites(file: string, count: number, maxLength = 20000): Promise<void> {
  const size = (await fs.stat(file)).size;
  const handle = await fs.open(file, "r+");
  try {
    for (let i = 0; i < count; i++) {
      const length = 1 + Math.floor(Math.random() * maxLength);
      const offset = Math.floor(Math.random() * Math.max(1, size - length));
      await handle.write(randomBytes(length), 0, length, offset);
    }
  } finally {
    await handle.close();
  }
}

/** Replace 64 KiB blocks [from, to) of a file with random data, in place. */
export async function overwriteBlocks(file: string, from: number, to: number): Promise<void> {
  const handle = await fs.open(file, "r+");
  try {
    for (let i = from; i < to; i++) await handle.write(randomBytes(65536), 0, 65536, i * 65536);
  } finally {
    await handle.close();
  }
}

/** A fresh vault with a source site "hq" and a policy "gold" (30 s copy frequency), on a manual clock. */
export async function newVault(dir: string, options: VaultOptions & { policy?: Record<string, unknown> } = {}) {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const { engine, registrationKey } = await Engine.init(path.join(dir, "vault"), { ...options, clock });
  after(async () => {
    await stopMachines(engine);
    await engine.close().catch(() => undefined);
  });
  await engine.addSite({ name: "hq", kind: "hyperv", hosts: ["host1"] });
  await engine.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24, ...options.policy });
  return { engine, clock, registrationKey };
}

/** newVault plus a kvm site "kv", for machines served by QEMU. */
export async function kvmVault(dir: string) {
  const vault = await newVault(dir);
  await vault.engine.addSite({ name: "kv", kind: "kvm" });
  return vault;
}

/** All file names and sizes under a directory, for "nothing was written" checks. */
export async function snapshotTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        // A file renamed or removed since readdir (a pack being written by another process) is left out.
        const stat = await unlessMissing(fs.stat(full));
        if (stat) out.push(`${path.relative(dir, full)} ${stat.size}`);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * A vault (see newVault) whose block store can be made to fail, with one machine "vm" protected:
 * its OS disk is `os.img` in dir, `blocks` 64 KiB blocks of random data.
 */
export async function vaultWithVm(dir: string, blocks: number, options: { policy?: Record<string, unknown> } = {}) {
  let faulty!: FaultyStore;
  const vault = await newVault(dir, { ...options, wrapStore: (s) => (faulty = new FaultyStore(s)) });
  const disk = path.join(dir, "os.img");
  await makeDisk(disk, blocks);
  const job = await vault.engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
  if (job.state !== "Succeeded") throw new Error(`protect failed: ${JSON.stringify(job.error)}`);
  return { ...vault, faulty, disk };
}

/**
 * newVault plus a recovery site "dr" (directory dir/dr), its network "dr-net" (10.1.0.0/24), and the
 * mapping of source network "corp" to it.
 */
export async function recoveryVault(dir: string, options: { policy?: Record<string, unknown> } = {}) {
  const vault = await newVault(dir, options);
  await vault.engine.addSite({ name: "dr", kind: "recovery", path: path.join(dir, "dr") });
  await vault.engine.addNetwork({ name: "dr-net", site: "dr", subnets: ["10.1.0.0/24"] });
  await vault.engine.addNetworkMapping({ source: "corp", target: "dr-net" });
  return vault;
}

/** Kill the process groups of every machine the engine started (drills and failovers), whatever state a test left. */
export async function stopMachines(engine: Engine): Promise<void> {
  const rows = await engine.vault.db
    .selectFrom("machines")
    .select("pid")
    .where("pid", "is not", null)
    .execute()
    .catch(() => []);
  for (const { pid } of rows) {
    try {
      process.kill(-pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
