import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { type BitmapOptions, checkpointActions } from "./bitmaps";
import { EngineError } from "../errors";
import { type QmpClient, QmpCommandError } from "./client";
import { findJob, runJob } from "./jobs";
import { blockNode, blockNodes } from "./nodes";
import { until } from "./until";

export interface FleeceOptions {
  /** The disk's block node: the node the guest (or the live export) writes to. */
  node: string;
  /** Directory for the temporary overlay; QEMU creates the file there, so QEMU must be able to write it. */
  dir: string;
  /** Unix socket of QEMU's NBD server: started there when QEMU runs none; when it runs one, it must listen here. */
  nbdSocket: string;
  /**
   * The checkpoint taken at the same instant as the view: `current` (if any) is disabled and exported with
   * the view (its list is what changed up to the view), `next` starts recording (see checkpointActions).
   */
  checkpoint?: { current?: string; next: string; options?: BitmapOptions };
}

/** A point-in-time view of a disk, exported read-only over NBD. Pass it to endFleece when done. */
export interface Fleece {
  node: string;
  /** The NBD export's name (and id) on `nbdSocket`. */
  exportName: string;
  nbdSocket: string;
  /** `nbd+unix:///EXPORT?socket=SOCKET`, as libnbd and qemu-img take it. */
  uri: string;
  /** The bitmap exported with the view (`qemu:dirty-bitmap:NAME`), when a checkpoint was rotated. */
  bitmap?: string;
  overlayPath: string;
  overlayNode: string;
  fileNode: string;
  jobId: string;
  /** Whether startFleece started QEMU's NBD server (endFleece then stops it, if nothing else is exported). */
  startedServer: boolean;
}

const ALREADY_RUNNING = "NBD server already running";

/** A fleece's id: its overlay node, export and job are named so (its file node `<id>-file`); ≤ 31 characters, QEMU's limit. */
export const FLEECE_ID = /^fleece-[0-9a-f]{12}$/;
const newFleeceId = () => `fleece-${randomBytes(6).toString("hex")}`;

/**
 * Image fleecing: a temporary qcow2 overlay whose backing is the disk's node, then in ONE transaction the
 * checkpoint's bitmap actions and a `blockdev-backup sync=none` from the disk to the overlay. From that
 * instant QEMU copies each old cluster to the overlay before a write replaces it, so the overlay (reading
 * through to the disk where nothing was copied) stays the disk as it was at the transaction, while the
 * guest keeps writing. The overlay is exported read-only over NBD, with the disabled bitmap. A failure at
 * any step undoes what was done (endFleece) and rethrows.
 */
export async function startFleece(client: QmpClient, options: FleeceOptions): Promise<Fleece> {
  const disk = await blockNode(client, options.node);
  const { checkpoint } = options;
  // Checked before anything is created: a lost or inconsistent bitmap fails here, changing nothing.
  const bitmapActions = checkpoint ? await checkpointActions(client, options.node, checkpoint.current, checkpoint.next, checkpoint.options) : [];
  const id = newFleeceId();
  const fleece: Fleece = {
    node: options.node,
    exportName: id,
    nbdSocket: options.nbdSocket,
    uri: `nbd+unix:///${id}?socket=${options.nbdSocket}`,
    bitmap: checkpoint?.current,
    overlayPath: path.join(path.resolve(options.dir), `${id}.qcow2`),
    overlayNode: id,
    fileNode: `${id}-file`,
    jobId: id,
    startedServer: false,
  };
  try {
    await runJob(client, "blockdev-create", `${id}-create-file`, { options: { driver: "file", filename: fleece.overlayPath, size: 0 } });
    await client.execute("blockdev-add", { driver: "file", "node-name": fleece.fileNode, filename: fleece.overlayPath });
    await runJob(client, "blockdev-create", `${id}-create-qcow2`, { options: { driver: "qcow2", file: fleece.fileNode, size: disk.size } });
    await client.execute("blockdev-add", { driver: "qcow2", "node-name": fleece.overlayNode, file: fleece.fileNode, backing: options.node });
    await client.execute("transaction", {
      actions: [
        ...bitmapActions,
        { type: "blockdev-backup", data: { device: options.node, target: fleece.overlayNode, sync: "none", "job-id": fleece.jobId } },
      ],
    });
    fleece.startedServer = await startNbdServer(client, options.nbdSocket);
    if (!fleece.startedServer && !(await isSocket(options.nbdSocket))) {
      throw new EngineError(
        "NbdRefused",
        `QEMU at ${client.socketPath} already runs an NBD server, and not on ${options.nbdSocket}, where the view is read (QEMU 7.2 cannot say where it listens): serve it there, or stop it`,
      );
    }
    await client.execute("block-export-add", {
      type: "nbd",
      id,
      "node-name": fleece.overlayNode,
      name: id,
      writable: false,
      ...(fleece.bitmap ? { bitmaps: [fleece.bitmap] } : {}),
    });
    return fleece;
  } catch (error) {
    // The original failure is the one to report; a cleanup that fails as well (QEMU gone) adds nothing.
    await endFleece(client, fleece).catch(() => undefined);
    throw error;
  }
}

const isSocket = (file: string) =>
  fs.stat(file).then(
    (s) => s.isSocket(),
    () => false,
  );

/** Start QEMU's NBD server on the socket; false when one runs already (QEMU 7.2 has no query for its address). */
async function startNbdServer(client: QmpClient, socket: string): Promise<boolean> {
  try {
    await client.execute("nbd-server-start", { addr: { type: "unix", data: { path: socket } } });
    return true;
  } catch (error) {
    if (error instanceof QmpCommandError && error.desc === ALREADY_RUNNING) return false;
    throw error;
  }
}

interface ExportInfo {
  id: string;
  type: string;
}

const blockExports = (client: QmpClient) => client.execute<ExportInfo[]>("query-block-exports");

/**
 * Remove the view: its export (dropping clients still connected), its backup job, its nodes, its NBD server
 * if startFleece started it, and the overlay file. Each piece is removed only if it is there, so this is
 * safe after a partial start and when called twice. The file goes even when QEMU is gone.
 */
export async function endFleece(client: QmpClient, fleece: Fleece): Promise<void> {
  try {
    if ((await blockExports(client)).some((e) => e.id === fleece.exportName)) {
      await client.execute("block-export-del", { id: fleece.exportName, mode: "hard" });
      // A hard removal completes when the clients are gone: the node is in use until BLOCK_EXPORT_DELETED.
      await until(client, `export '${fleece.exportName}' to be deleted`, ["BLOCK_EXPORT_DELETED"], async () =>
        (await blockExports(client)).some((e) => e.id === fleece.exportName) ? undefined : true,
      );
    }
    if (await findJob(client, fleece.jobId)) {
      await client.execute("block-job-cancel", { device: fleece.jobId, force: true });
      await until(client, `job '${fleece.jobId}' to end`, ["JOB_STATUS_CHANGE"], async () => ((await findJob(client, fleece.jobId)) ? undefined : true));
    }
    for (const nodeName of [fleece.overlayNode, fleece.fileNode]) {
      if ((await blockNodes(client)).some((n) => n.nodeName === nodeName)) await client.execute("blockdev-del", { "node-name": nodeName });
    }
    if (fleece.startedServer && !(await blockExports(client)).some((e) => e.type === "nbd")) {
      await client.execute("nbd-server-stop");
      fleece.startedServer = false;
    }
  } finally {
    await fs.rm(fleece.overlayPath, { force: true });
  }
}
