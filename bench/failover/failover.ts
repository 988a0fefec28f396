import { promises as fs } from "node:fs";
import * as path from "node:path";
import { durableCopyAll, plainCopy } from "../common/baselines";
import { changeBlocks } from "../common/image";
import { allocatedBytes, runCommand, type PageCache } from "../common/measure";
import { Random } from "../common/random";
import { CHANGED_FRACTION, machineName, RUNS } from "../common/suite";
import {
  FAILBACK_MACHINE,
  PLANS,
  recoveredDisk,
  runFailoverWorker,
  type FailbackFigures,
  type FailbackMode,
  type PlanRunFigures,
  type PlanVariant,
  type ProtectPlanFigures,
} from "./failover-protocol";
import type { Measured } from "../common/worker-protocol";

export interface FailoverContext {
  /** The suite's work directory: everything here is on one file system. */
  dir: string;
  cache: PageCache;
  seed: number;
  log: (line: string) => void;
}

export interface PlanRun extends Measured<PlanRunFigures> {
  /** Disk space the recovered disks take (they are written sparse). */
  allocatedBytes: number;
}

export interface PlanRound {
  ours: Record<PlanVariant, PlanRun>;
  cpMs: number;
  cpAllocatedBytes: number;
}

export interface PlanResult {
  /** Setup: protecting every machine into the vault the runs start from. */
  protect: Measured<ProtectPlanFigures>;
  rounds: PlanRound[];
}

/** Files of the plan bench. */
interface PlanFiles {
  /** The vault as protection left it; never failed over, copied for every run. */
  pristineVault: string;
  vault: string;
  site: string;
  copies: string;
}

/**
 * A recovery plan of one machine per image against cp of the images. The vault is protected once; each
 * run fails over a byte-identical copy of it (so every run starts from the same state and pays the same
 * reads) into an empty recovery site, in a fresh process, after the page cache is dropped. Runs of both
 * plans and of cp alternate, so a slow spell of the machine hits all of them alike.
 */
export async function benchPlan(context: FailoverContext, images: string[]): Promise<PlanResult> {
  const files: PlanFiles = {
    pristineVault: path.join(context.dir, "vault.pristine"),
    vault: path.join(context.dir, "vault"),
    site: path.join(context.dir, "recovery-site"),
    copies: path.join(context.dir, "cp-copies"),
  };
  context.log(`protecting ${images.length} machines (setup)`);
  const protect = await runFailoverWorker("protect-plan", [files.pristineVault, files.site, ...images]);
  const rounds: PlanRound[] = [];
  try {
    for (let round = 1; round <= RUNS; round++) {
      const measure = async (variant: PlanVariant) => {
        context.log(`recovery plan, run ${round} of ${RUNS}: Engine.runPlan('${PLANS[variant]}')`);
        const run = await runPlanOnce(context, files, variant, images.length);
        // Checked once per plan: comparing every run would double the bench's reads for no new answer.
        if (round === 1) await assertRecovered(images, files.site);
        return run;
      };
      const ours = { oneGroup: await measure("oneGroup"), twoGroups: await measure("twoGroups") };
      context.log(`recovery plan, run ${round} of ${RUNS}: cp`);
      rounds.push({ ours, ...(await copyOnce(context, files, images)) });
    }
  } finally {
    for (const dir of Object.values(files)) await fs.rm(dir, { recursive: true, force: true });
  }
  return { protect, rounds };
}

async function runPlanOnce(context: FailoverContext, files: PlanFiles, variant: PlanVariant, machines: number): Promise<PlanRun> {
  await fs.rm(files.site, { recursive: true, force: true });
  await fs.rm(files.vault, { recursive: true, force: true });
  await runCommand("cp", ["-a", "--reflink=never", files.pristineVault, files.vault]);
  await context.cache.drop(); // also writes the copy out, so the run does not pay for it
  const figures = await runFailoverWorker("run-plan", [files.vault, PLANS[variant]]);
  if (figures.machines !== machines) throw new Error(`plan '${PLANS[variant]}' holds ${figures.machines} machines, not ${machines}`);
  const disks = Array.from({ length: machines }, (_, i) => recoveredDisk(files.site, machineName(i)));
  return { ...figures, allocatedBytes: await allocatedBytes(disks) };
}

async function copyOnce(context: FailoverContext, files: PlanFiles, images: string[]): Promise<{ cpMs: number; cpAllocatedBytes: number }> {
  await fs.rm(files.copies, { recursive: true, force: true });
  await fs.mkdir(files.copies);
  await context.cache.drop();
  const cpMs = await durableCopyAll(images, files.copies);
  return { cpMs, cpAllocatedBytes: await allocatedBytes(images.map((image) => path.join(files.copies, path.basename(image)))) };
}

/** Every machine's recovered disk equals its source image byte for byte: the run timed a real recovery. */
async function assertRecovered(images: string[], site: string): Promise<void> {
  for (const [i, image] of images.entries()) await assertSameBytes(image, recoveredDisk(site, machineName(i)));
}

async function assertSameBytes(expected: string, actual: string): Promise<void> {
  await runCommand("cmp", ["--quiet", expected, actual]).catch(() => {
    throw new Error(`${actual} differs from ${expected}`);
  });
}

export interface FailbackRun extends Measured<FailbackFigures> {
  /** Blocks the bench changed on the recovered disk before failing back. */
  changedBlocks: number;
  /** Setup (protect, failover, commit, reprotect), for scale. */
  setupMs: number;
}

export type FailbackResult = Record<FailbackMode, FailbackRun[]>;

const FAILBACK_MODES: FailbackMode[] = ["delta", "full"];

/**
 * Failback to the original location by delta against a full download. Every run starts from its own
 * copy of the source image, protected, failed over, committed and reprotected; then CHANGED_FRACTION of
 * the recovered disk's blocks change (the same blocks and bytes every run), and the failback is timed.
 */
export async function benchFailback(context: FailoverContext, source: string, blocks: number): Promise<FailbackResult> {
  const result: FailbackResult = { delta: [], full: [] };
  for (let round = 1; round <= RUNS; round++) {
    for (const mode of FAILBACK_MODES) {
      context.log(`failback to the original location, run ${round} of ${RUNS}: ${mode === "delta" ? "by delta" : "full download"}`);
      result[mode].push(await failbackOnce(context, source, blocks, mode));
    }
  }
  return result;
}

async function failbackOnce(context: FailoverContext, source: string, blocks: number, mode: FailbackMode): Promise<FailbackRun> {
  const dir = path.join(context.dir, `failback-${mode}`);
  const image = path.join(dir, "disk.img");
  const vault = path.join(dir, "vault");
  const site = path.join(dir, "recovery-site");
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir);
  try {
    await plainCopy(source, image);
    const setup = await runFailoverWorker("prepare-failback", [vault, site, image]);
    const recovered = recoveredDisk(site, FAILBACK_MACHINE);
    // The machine ran at the recovery site and wrote; one seed for every run, so every run has the same writes.
    const changed = await changeBlocks(recovered, blocks, CHANGED_FRACTION, new Random(context.seed));
    await context.cache.drop();
    const figures = await runFailoverWorker("failback", [vault, mode]);
    await assertSameBytes(recovered, image);
    return { ...figures, changedBlocks: changed.length, setupMs: setup.ms };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
