/**
 * Child process entry: `node dist/bench/engine-worker.js <op> [args]`. Each measured engine operation
 * runs alone in its own process so its peak RSS is its own, not the bench's (which holds image buffers).
 */
import { Engine, type JobView, type PointView } from "../engine";
import { peakRssKiB, timed } from "./measure";
import { emitFigures, ITEM, type WorkerOp, type WorkerOps } from "./worker-protocol";

const SITE = "bench-site";
const POLICY = "bench-policy";

type Operation<Op extends WorkerOp> = (args: string[]) => Promise<Omit<WorkerOps[Op], "maxRssKiB">>;

/** The job's result; a job that did not succeed fails the measurement rather than timing an error path. */
function resultOf<T>(job: JobView): T {
  if (job.state !== "Succeeded") throw new Error(`${job.type} job for ${job.target} ended ${job.state}: ${job.error?.message ?? "no error recorded"}`);
  return job.result as T;
}

const packBytes = async (engine: Engine) => (await engine.status()).vault.store.packBytes;

const protect: Operation<"protect"> = async ([vaultDir, image]) => {
  const { engine } = await Engine.init(vaultDir);
  try {
    await engine.addSite({ name: SITE, kind: "hyperv" });
    await engine.addPolicy({ name: POLICY });
    const spec = { name: ITEM, site: SITE, policy: POLICY, disks: [{ name: "os", path: image, os: true }] };
    const { ms, value: job } = await timed(() => engine.protect(spec));
    const { bytesRead, bytesStored } = resultOf<{ bytesRead: number; bytesStored: number }>(job);
    return { ms, bytesRead, bytesStored };
  } finally {
    await engine.close();
  }
};

const cycle: Operation<"cycle"> = async ([vaultDir]) => {
  const engine = await Engine.open(vaultDir);
  try {
    const packBytesBefore = await packBytes(engine);
    const { ms, value: job } = await timed(() => engine.replicateNow(ITEM));
    const [point] = resultOf<{ points: PointView[] }>(job).points;
    return { ms, bytesRead: point.bytesRead, blocksChanged: point.blocksChanged, bytesStored: point.bytesStored, packBytesBefore, packBytesAfter: await packBytes(engine) };
  } finally {
    await engine.close();
  }
};

const idle: Operation<"idle"> = async () => ({ ms: 0 });

const operations: { [Op in WorkerOp]: Operation<Op> } = { protect, cycle, idle };

async function main(): Promise<void> {
  const [op, ...args] = process.argv.slice(2);
  if (!(op in operations)) throw new Error(`unknown operation '${op}'; expected one of ${Object.keys(operations).join(", ")}`);
  const figures = await operations[op as WorkerOp](args);
  emitFigures({ ...figures, maxRssKiB: peakRssKiB() });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
