import { ConflictError, errorMessage } from "../errors";
import { changedExtents, dirtyBitmapContext, NbdClient } from "../nbd";
import { acquireQmp, blockNode, endFleece, type Fleece, type QmpClient, type QmpSession, removeBitmap, startFleece } from "../qmp";
import { checkpointState } from "./checkpoints";
import { endLeftoverFleeces } from "./leftovers";
import type { Capture, ChangeTracker, Changes } from "./tracker";

export interface KvmTrackerOptions {
  /** The QMP socket of the QEMU process serving the disk (a KVM guest or qemu-storage-daemon). */
  qmpSocket: string;
  /** The disk's block node (the format node the guest writes to). */
  node: string;
  /** Directory for the view's temporary overlay: QEMU creates the file there. */
  dir: string;
  /** Unix socket of QEMU's NBD server (started there if QEMU runs none). */
  nbdSocket: string;
  /** The checkpoint last committed, as the engine stored it: its absence on the node then reads as lost. */
  checkpoint?: string;
  /** Bytes one bit of a new checkpoint covers (QEMU's default: the image's cluster size, 64 KiB). */
  granularity?: number;
}

/**
 * The change tracker of one disk served by QEMU: a dirty bitmap per checkpoint (persistent in a qcow2
 * image, so it survives a graceful restart of QEMU), rotated in the same transaction that fleeces the disk,
 * so the view and the list of changes up to it are of one instant. The changes are the old bitmap's dirty
 * extents, read over NBD from the view's export. It connects to QMP per capture (QEMU serves one monitor
 * client at a time, and may restart between cycles).
 */
export class KvmTracker implements ChangeTracker {
  private committed: string | undefined;
  /** Set when a capture could not be ended cleanly: the next capture cannot trust the bitmaps. */
  private mustResync: string | undefined;
  private open = false;

  constructor(readonly options: KvmTrackerOptions) {
    this.committed = options.checkpoint;
  }

  /**
   * The checkpoint bitmap the next capture rotates from (for the engine to store after a commit or an
   * abandon); undefined when the next capture cannot trust any and reads the whole disk.
   */
  get checkpoint(): string | undefined {
    return this.mustResync === undefined ? this.committed : undefined;
  }

  async begin(): Promise<Capture> {
    if (this.open) throw new ConflictError(`node '${this.options.node}' has a capture open: commit or abandon it first`);
    this.open = true;
    try {
      // The disks of one QEMU share its monitor: it serves one client at a time.
      const session = await acquireQmp(this.options.qmpSocket);
      try {
        return await this.capture(session);
      } catch (error) {
        await session.release();
        throw error;
      }
    } catch (error) {
      this.open = false;
      throw error;
    }
  }

  private async capture(session: QmpSession): Promise<Capture> {
    const qmp = session.client;
    const { node } = this.options;
    await endLeftoverFleeces(qmp, node, this.options.nbdSocket);
    const disk = await blockNode(qmp, node);
    const state = checkpointState(disk.dirtyBitmaps, this.committed, node);
    const reason = this.mustResync ?? ("resync" in state ? state.resync : undefined);
    const current = reason === undefined && "current" in state ? state.current.name : undefined;
    // Start afresh: none of our old bitmaps vouches for anything now.
    if (reason !== undefined) for (const stale of state.ours) await removeBitmap(qmp, node, stale.name);
    const { next } = state;
    const fleece = await startFleece(qmp, {
      node,
      dir: this.options.dir,
      nbdSocket: this.options.nbdSocket,
      checkpoint: { current, next, options: { persistent: disk.driver === "qcow2", granularity: this.options.granularity } },
    });
    try {
      const nbd = await NbdClient.connect(
        { socket: fleece.nbdSocket },
        { export: fleece.exportName, metaContexts: current ? [dirtyBitmapContext(current)] : [] },
      );
      try {
        const changed: Changes = current ? await changedExtents(nbd, current) : { resync: reason ?? "no checkpoint" };
        this.mustResync = undefined;
        return new KvmCapture(this, session, nbd, fleece, changed, current, next);
      } catch (error) {
        await nbd.close();
        throw error;
      }
    } catch (error) {
      // The rotation happened: fold the old checkpoint back so its changes are not lost.
      await this.undo(qmp, fleece, current, next);
      throw error;
    }
  }

  /**
   * For KvmCapture.abandon (and a begin that failed after the rotation). End the view, then undo the rotation
   * in one transaction: `next`'s writes merged back into `current`, `current` recording again, `next` removed.
   * The checkpoint keeps its name, so what the engine has on record for the replica stays true.
   */
  async undo(qmp: QmpClient, fleece: Fleece, current: string | undefined, next: string): Promise<void> {
    const { node } = this.options;
    try {
      await endFleece(qmp, fleece);
      if (current === undefined) {
        // A resync capture: nothing before its instant is tracked, so the next capture must resync as well.
        await removeBitmap(qmp, node, next);
        this.mustResync = `the previous capture of node '${node}' was a full read, abandoned`;
      } else {
        await qmp.execute("transaction", {
          actions: [
            { type: "block-dirty-bitmap-merge", data: { node, target: current, bitmaps: [next] } },
            { type: "block-dirty-bitmap-enable", data: { node, name: current } },
            { type: "block-dirty-bitmap-remove", data: { node, name: next } },
          ],
        });
      }
    } catch (error) {
      this.mustResync = `the previous capture of node '${node}' could not be abandoned cleanly (${errorMessage(error)})`;
    }
  }

  /** For KvmCapture.commit. The capture is durable: the old checkpoint goes, the new one is what the next capture rotates from. */
  async finish(qmp: QmpClient, fleece: Fleece, current: string | undefined, next: string): Promise<void> {
    await endFleece(qmp, fleece);
    if (current !== undefined) await removeBitmap(qmp, this.options.node, current);
    this.committed = next;
  }

  /** For KvmCapture: the bitmaps cannot be trusted any more; the next capture resyncs, saying why. */
  distrust(reason: string): void {
    this.mustResync = reason;
  }

  /** For KvmCapture: the capture has ended, another may begin. */
  closed(): void {
    this.open = false;
  }
}

class KvmCapture implements Capture {
  private ended = false;

  constructor(
    private readonly tracker: KvmTracker,
    private readonly session: QmpSession,
    private readonly nbd: NbdClient,
    private readonly fleece: Fleece,
    readonly changed: Changes,
    private readonly current: string | undefined,
    private readonly next: string,
  ) {}

  get size(): number {
    return this.nbd.size;
  }

  get checkpoint(): string {
    return this.next;
  }

  read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return this.nbd.read(offset, length, into);
  }

  async commit(): Promise<void> {
    this.checkOpen();
    try {
      await this.nbd.close();
      await this.tracker.finish(this.session.client, this.fleece, this.current, this.next);
    } catch (error) {
      this.tracker.distrust(`the commit of the previous capture of node '${this.tracker.options.node}' failed (${errorMessage(error)})`);
      throw error;
    } finally {
      await this.end();
    }
  }

  async abandon(): Promise<void> {
    if (this.ended) return;
    await this.nbd.close().catch(() => undefined);
    await this.tracker.undo(this.session.client, this.fleece, this.current, this.next);
    await this.end();
  }

  private checkOpen(): void {
    if (this.ended) throw new ConflictError("the capture has ended (committed or abandoned)");
  }

  private async end(): Promise<void> {
    this.ended = true;
    this.tracker.closed();
    await this.session.release();
  }
}
