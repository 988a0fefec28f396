import { errorMessage } from "../errors";
import { acquireQmp, blockNodes, type QmpSession, removeBitmap } from "../qmp";
import { isCheckpoint } from "./checkpoints";
import { endLeftoverFleeces } from "./leftovers";

/**
 * Stop tracking a machine's disks in its QEMU (protection disabled): end views a dead process left, and
 * remove the checkpoint bitmaps, which otherwise go on recording every write, and persist in a qcow2 image.
 * Best effort: the machine may be gone. Answers what could not be done, or undefined.
 */
export async function stopTracking(qmpSocket: string, nodes: string[], nbdSocket: string): Promise<string | undefined> {
  let session: QmpSession;
  try {
    session = await acquireQmp(qmpSocket);
  } catch (error) {
    return `the QEMU at ${qmpSocket} did not answer, so its checkpoint bitmaps were left (${errorMessage(error)})`;
  }
  const qmp = session.client;
  try {
    const problems: string[] = [];
    for (const node of nodes) {
      try {
        await endLeftoverFleeces(qmp, node, nbdSocket);
        const found = (await blockNodes(qmp)).find((n) => n.nodeName === node);
        for (const bitmap of found?.dirtyBitmaps.filter((b) => isCheckpoint(b.name)) ?? []) await removeBitmap(qmp, node, bitmap.name);
      } catch (error) {
        problems.push(`node '${node}': ${errorMessage(error)}`);
      }
    }
    return problems.length ? `checkpoint bitmaps left in the QEMU at ${qmpSocket}: ${problems.join("; ")}` : undefined;
  } finally {
    await session.release();
  }
}
