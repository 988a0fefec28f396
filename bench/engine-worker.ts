/**
 * Child process entry: `node dist/bench/engine-worker.js <op> [args]`. Each measured engine operation
 * runs alone in its own process so its peak RSS is its own, not the bench's (which holds image buffers).
 */
import { Engine, type PointView } from "../engine";
import { timed } from "./measure";
import { ITEM, resultOf, serveOperation, type ChildOperation, type WorkerOp, type WorkerOps } from "./worker-protocol";

const SITE = "bench-site";
const POLICY = "bench-policy";

type Operation<Op extends WorkerOp> = ChildOperation<WorkerOps[Op]>;

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

serveOperation(operations);
