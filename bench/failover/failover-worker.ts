/**
 * Child process entry for the failover suite: `node dist/bench/failover-worker.js <op> [args]` (see
 * failover-protocol.ts). The measured operations each open the vault in a fresh process, so their time
 * and peak RSS are theirs alone; setup runs in processes of its own.
 */
import { Engine, type JobView, type TaskView } from "../../engine";
import type { FailbackOutcome } from "../../engine/failover/failback";
import { timed, timedWithCpu } from "../common/measure";
import { machineName } from "../common/suite";
import { DISK, FAILBACK_MACHINE, PLANS, type FailbackMode, type FailoverOp, type FailoverOps } from "./failover-protocol";
import { resultOf, serveOperation, type ChildOperation } from "../common/worker-protocol";

type Operation<Op extends FailoverOp> = ChildOperation<FailoverOps[Op]>;

const SOURCE_SITE = "hq";
const RECOVERY_SITE = "dr";
const POLICY = "bench-policy";
/** Fail over to the newest point already in the vault: nothing is captured first, so only recovery is timed. */
const UNPLANNED = { type: "unplanned", point: "latest-processed" } as const;

/** A new vault with a source site, a recovery site that materializes machines in siteDir, and a policy. */
async function newVault(vaultDir: string, siteDir: string): Promise<Engine> {
  const { engine } = await Engine.init(vaultDir);
  await engine.addSite({ name: SOURCE_SITE, kind: "hyperv" });
  await engine.addSite({ name: RECOVERY_SITE, kind: "recovery", path: siteDir });
  await engine.addPolicy({ name: POLICY });
  return engine;
}

async function using<T>(engine: Engine, body: (engine: Engine) => Promise<T>): Promise<T> {
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

/** A machine with one disk, the image, recovering to the recovery site with no compute (disks only). */
function protect(engine: Engine, name: string, image: string): Promise<JobView> {
  const disks = [{ name: DISK, path: image, os: true }];
  return engine.protect({ name, site: SOURCE_SITE, policy: POLICY, disks, recovery: { site: RECOVERY_SITE, compute: { driver: "none" } } });
}

const taskMs = (task: TaskView): number => Date.parse(task.endedAt!) - Date.parse(task.startedAt!);

const protectPlan: Operation<"protect-plan"> = async ([vaultDir, siteDir, ...images]) =>
  using(await newVault(vaultDir, siteDir), async (engine) => {
    const names = images.map((_, i) => machineName(i));
    const { ms, value: results } = await timed(async () => {
      const done: Array<{ bytesRead: number; bytesStored: number }> = [];
      for (const [i, image] of images.entries()) done.push(resultOf(await protect(engine, names[i], image)));
      return done;
    });
    const half = Math.ceil(names.length / 2);
    await engine.addPlan({ name: PLANS.oneGroup, groups: [{ items: names }] });
    await engine.addPlan({ name: PLANS.twoGroups, groups: [{ items: names.slice(0, half) }, { items: names.slice(half) }] });
    const total = (key: "bytesRead" | "bytesStored") => results.reduce((sum, r) => sum + r[key], 0);
    return { ms, machines: names.length, bytesRead: total("bytesRead"), bytesStored: total("bytesStored") };
  });

const runPlan: Operation<"run-plan"> = async ([vaultDir, plan]) =>
  using(await Engine.open(vaultDir), async (engine) => {
    const { ms, cpuMs, value: job } = await timedWithCpu(() => engine.runPlan(plan, UNPLANNED));
    resultOf(job);
    const machines = (await engine.getPlan(plan)).groups.reduce((sum, g) => sum + g.items.length, 0);
    return { ms, cpuMs, machines, groupMs: job.tasks.map(taskMs) };
  });

const prepareFailback: Operation<"prepare-failback"> = async ([vaultDir, siteDir, image]) =>
  using(await newVault(vaultDir, siteDir), async (engine) => {
    const { ms } = await timed(async () => {
      resultOf(await protect(engine, FAILBACK_MACHINE, image));
      resultOf(await engine.failover(FAILBACK_MACHINE, UNPLANNED));
      resultOf(await engine.commit(FAILBACK_MACHINE));
      resultOf(await engine.reprotect(FAILBACK_MACHINE));
    });
    return { ms };
  });

const failback: Operation<"failback"> = async ([vaultDir, mode]) =>
  using(await Engine.open(vaultDir), async (engine) => {
    const modes: FailbackMode[] = ["delta", "full"];
    if (!modes.includes(mode as FailbackMode)) throw new Error(`failback mode must be one of ${modes.join(", ")}, got '${mode}'`);
    const fullDownload = mode === "full";
    const { ms, cpuMs, value: job } = await timedWithCpu(() => engine.failback(FAILBACK_MACHINE, { location: "original", fullDownload }));
    const { bytesTransferred, preSyncBytes, finalBytes, diskBytes } = resultOf<FailbackOutcome>(job);
    return { ms, cpuMs, bytesTransferred, preSyncBytes, finalBytes, diskBytes };
  });

const operations: { [Op in FailoverOp]: Operation<Op> } = { "protect-plan": protectPlan, "run-plan": runPlan, "prepare-failback": prepareFailback, failback };

serveOperation(operations);
