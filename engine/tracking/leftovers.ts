import { endFleece, FLEECE_ID, type Fleece, type QmpClient } from "../qmp";

interface RawNode {
  "node-name": string;
  file: string;
  backing_file?: string;
}

/**
 * End the views of the disk node that a tracker left behind when its process died during a capture: the
 * export holds the old checkpoint bitmap busy (it cannot be removed) and the backup job copies every write
 * into an overlay nobody reads. A view of this disk is an overlay whose backing file is the disk's file.
 * Only one tracker serves a disk at a time, so any view of it found at begin() is a leftover.
 */
export async function endLeftoverFleeces(qmp: QmpClient, node: string, nbdSocket: string): Promise<number> {
  const nodes = await qmp.execute<RawNode[]>("query-named-block-nodes", { flat: true });
  const disk = nodes.find((n) => n["node-name"] === node);
  const leftovers = nodes.filter((n) => FLEECE_ID.test(n["node-name"]) && disk !== undefined && n.backing_file === disk.file);
  for (const overlay of leftovers) {
    const id = overlay["node-name"];
    const fileNode = nodes.find((n) => n["node-name"] === `${id}-file`);
    if (!fileNode) continue; // not startFleece's: its overlay always sits on its own file node
    const fleece: Fleece = {
      node,
      exportName: id,
      nbdSocket,
      uri: `nbd+unix:///${id}?socket=${nbdSocket}`,
      overlayPath: fileNode.file,
      overlayNode: id,
      fileNode: `${id}-file`,
      jobId: id,
      // Another view (of another disk) may still use QEMU's NBD server: leave it running.
      startedServer: false,
    };
    await endFleece(qmp, fleece);
  }
  return leftovers.length;
}
