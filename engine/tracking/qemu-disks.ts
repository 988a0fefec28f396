import { errorMessage } from "../errors";
import { acquireQmp, blockNodes, type QmpSession } from "../qmp";

/** A block node as a check sees it: its size (the guest's view), or why it cannot be replicated. */
export type QemuNodeCheck = { size: number; problem?: undefined } | { size?: undefined; problem: string };

/**
 * Whether each block node can be replicated from the QEMU at `qmpSocket`: the monitor answers (else
 * `unreachable` says why), and the node exists. A node's problem reads after its name in a message.
 */
export async function checkQemuDisks(qmpSocket: string, nodes: string[]): Promise<{ unreachable: string } | { nodes: QemuNodeCheck[] }> {
  let session: QmpSession;
  try {
    session = await acquireQmp(qmpSocket);
  } catch (error) {
    return { unreachable: `does not answer as a QMP monitor (${errorMessage(error)})` };
  }
  const qmp = session.client;
  try {
    const known = await blockNodes(qmp);
    const names = known.map((n) => n.nodeName).join(", ") || "none";
    return {
      nodes: nodes.map((name) => {
        const node = known.find((n) => n.nodeName === name);
        return node ? { size: node.size } : { problem: `is not a block node of the QEMU at ${qmpSocket} (its named nodes: ${names})` };
      }),
    };
  } finally {
    await session.release();
  }
}
