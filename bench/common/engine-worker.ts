/**
 * Child process entry: `node dist/bench/engine-worker.js <op> [args]`. Each measured engine operation
 * runs alone in its own process so its peak RSS is its own, not the bench's (which holds image buffers).
 */
import { promises as fs } from "node:fs";
import { Engine, type PointView } from "../../engine";
import { timed, timedWithCpu } from "./measure";
import { ITEM, resultOf, serveOperation, type ChildOperation, type WorkerOp, type WorkerOps } from "./worker-protocol";

const SITE = "bench-site";
const POLICY = "bench-policy";

type Operation<Op extends WorkerOp> = ChildOperation<WorkerOps[Op]>;

const packBytes = async (engine: Engine) => (await engine.status()).vault.store.packBytes;

const protect: Operation<"protect"> = async ([vaultDir, image, encryption]) => {
  const { engine } = await Engine.init(vaultDir, { unencrypted: encryption === "unencrypted" });
  try {
    await engine.addSite({ name: SITE, kind: "hyperv" });
    await engine.addPolicy({ name: POLICY });
    const spec = { name: ITEM, site: SITE, policy: POLICY, disks: [{ name: "os", path: image, os: true }] };
    const { ms, cpuMs, value: job } = await timedWithCpu(() => engine.protect(spec));
    const { bytesRead, bytesStored } = resultOf<{ bytesRead: number; bytesStored: number }>(job);
    return { ms, cpuMs, bytesRead, bytesStored };
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
    return {
      ms,
      bytesRead: point.bytesRead,
      blocksChanged: point.blocksChanged,
      bytesStored: point.bytesStored,
      packBytesBefore,
      packBytesAfter: await packBytes(engine),
    };
  } finally {
    await engine.close();
  }
};

const materialize: Operation<"materialize"> = async ([vaultDir, outDir]) => {
  const engine = await Engine.open(vaultDir);
  try {
    const { ms, cpuMs, value: job } = await timedWithCpu(() => engine.materialize(ITEM, "latest", outDir));
    const { disks } = resultOf<{ disks: Array<{ size: number }> }>(job);
    return { ms, cpuMs, bytes: disks.reduce((sum, d) => sum + d.size, 0) };
  } finally {
    await engine.close();
    await fs.rm(outDir, { recursive: true, force: true });
  }
};

const idle: Operation<"idle"> = async () => ({ ms: 0 });

const operations: { [Op in WorkerOp]: Operation<Op> } = { protect, cycle, materialize, idle };

serveOperation(operations);
