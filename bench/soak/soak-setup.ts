/** The soak's setup (disk images, a vault with every machine protected) and its read-rate baselines. */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Engine } from "../../engine";
import { BLOCK_BYTES, makeImage, type ImageLayout } from "../common/image";
import { machineName } from "../common/suite";
import { runCommand, timed, timedWithCpu } from "../common/measure";
import type { Random } from "../common/random";
import { resultOf } from "../common/worker-protocol";
import { readBlocks } from "../../engine/disks/block-reader";
import { changeHash } from "../../engine/disks/hashing";

export const SITE = "hq";
export const POLICY = "soak";
/** The policy's copy frequency while the vault is set up and the idle daemon is measured: no cycle falls due. */
export const IDLE_FREQUENCY = "15m";
/** The frequency the soak measures. */
export const SOAK_FREQUENCY = "30s";

export interface Disks {
  names: string[];
  images: string[];
  /** Summed over all disks. */
  layout: ImageLayout;
}

/** One image per machine, each with its own content drawn on from one seed. */
export async function makeDisks(dir: string, count: number, blocks: number, random: Random, log: (line: string) => void): Promise<Disks> {
  await fs.mkdir(dir, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => machineName(i));
  const images = names.map((name) => path.join(dir, `${name}.img`));
  const layout: ImageLayout = { zero: 0, text: 0, pattern: 0, random: 0 };
  for (const [i, image] of images.entries()) {
    const counts = await makeImage(image, blocks, random);
    for (const kind of Object.keys(layout) as Array<keyof ImageLayout>) layout[kind] += counts[kind];
    if ((i + 1) % 10 === 0) log(`  ${i + 1} of ${count} images`);
  }
  return { names, images, layout };
}

export interface ProtectSetup {
  ms: number;
  bytesRead: number;
  bytesStored: number;
}

/** What protects machine i beside its name, site and policy: its disks (and, on a kvm site, its QMP socket). */
export type MachineSpec = (i: number) => Record<string, unknown>;

/** One OS disk per image, no hooks: offline images on a hyperv site. */
export const imageSpec =
  (disks: Disks): MachineSpec =>
  (i) => ({ disks: [{ name: "os", path: disks.images[i], os: true }] });

/**
 * A vault with one machine per name on a site of `siteKind`, on a policy at the idle frequency; initial
 * replication of each runs to its first point here, before anything is measured.
 */
export async function protectAll(
  vault: string,
  names: string[],
  siteKind: "hyperv" | "kvm",
  spec: MachineSpec,
  log: (line: string) => void,
): Promise<ProtectSetup> {
  const { engine } = await Engine.init(vault);
  try {
    await engine.addSite({ name: SITE, kind: siteKind });
    await engine.addPolicy({ name: POLICY, copyFrequency: IDLE_FREQUENCY });
    let bytesRead = 0;
    let bytesStored = 0;
    const { ms } = await timed(async () => {
      for (const [i, name] of names.entries()) {
        const job = await engine.protect({ name, site: SITE, policy: POLICY, ...spec(i) });
        const result = resultOf<{ bytesRead: number; bytesStored: number }>(job);
        bytesRead += result.bytesRead;
        bytesStored += result.bytesStored;
        if ((i + 1) % 10 === 0) log(`  ${i + 1} of ${names.length} protected`);
      }
    });
    return { ms, bytesRead, bytesStored };
  } finally {
    await engine.close();
  }
}

/** Images the device baseline reads: enough for a steady rate, few enough to take seconds. */
const DEVICE_SAMPLE_IMAGES = 10;

export interface ReadBaselines {
  bytes: number;
  /** `dd iflag=direct` of the first few images: the storage device's own rate, no page cache. Null where O_DIRECT is refused. */
  device: { bytes: number; ms: number } | null;
  /** `cat` of every image to /dev/null, one after another. */
  catMs: number;
  /** Every image read and hashed with the engine's own block reader and change hash, in this process: a delta cycle's floor. */
  readHashMs: number;
  readHashCpuMs: number;
}

/** How fast this machine reads the images, measured just before the daemon starts (same page-cache state). */
export async function readBaselines(images: string[], bytesEach: number): Promise<ReadBaselines> {
  const sample = images.slice(0, DEVICE_SAMPLE_IMAGES);
  const direct = await runCommand("sh", ["-c", 'for f; do dd if="$f" of=/dev/null bs=4M iflag=direct status=none || exit 1; done', "sh", ...sample]).catch(
    () => null,
  );
  const cat = await runCommand("sh", ["-c", 'cat "$@" > /dev/null', "sh", ...images]);
  const readHash = await timedWithCpu(async () => {
    let hashes = 0n;
    for (const image of images) for await (const { data } of readBlocks(image, bytesEach, BLOCK_BYTES)) hashes ^= changeHash(data);
    return hashes;
  });
  const device = direct ? { bytes: sample.length * bytesEach, ms: direct.ms } : null;
  return { bytes: images.length * bytesEach, device, catMs: cat.ms, readHashMs: readHash.ms, readHashCpuMs: readHash.cpuMs };
}
