import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { BlockStore } from "../store/block-store";
import type { BlockMap } from "./block-map";
import { captureChunks, captureDisk, type CaptureOptions, type CaptureResult } from "./capture";
import { diskSize } from "../disks/block-reader";
import { type DiskSource, nbdSocketFor } from "../tracking/disk-source";
import { KvmTracker } from "../tracking/kvm-tracker";
import { isResync, type Capture } from "../tracking/tracker";
import { viewChunks } from "../tracking/view-chunks";

/** What a disk's row records with the point: the tracker checkpoint the replica stands at, and why tracking was reset. */
export interface TrackingState {
  checkpoint: string | null;
  /** Why this capture read the whole disk although the replica had a state (null: it followed the tracker, or was the first). */
  reset: string | null;
}

/** A capture read in full: the blocks are in the store (flush still pending), the point not yet recorded. */
export interface SourceCapture {
  result: CaptureResult;
  tracking: TrackingState;
  /** After the point (or the disk state) committed: the tracker lets its old checkpoint go. Never rejects. */
  committed(): Promise<void>;
  /** Nothing was recorded: the tracker keeps these changes for the next capture, under the checkpoint on record. Never rejects. */
  abandoned(): Promise<void>;
}

/**
 * A capture begun at the capture instant (inside the consistent window). A file is read there and then:
 * nothing else holds it still. A QEMU disk is a point-in-time view (image fleecing), so the window only
 * takes it, and `read` runs after the machine is released.
 */
export interface BegunCapture {
  read(): Promise<SourceCapture>;
  /** The window failed before read(): end the view, keeping its changes. Never rejects. */
  abandon(): Promise<void>;
}

export interface SourceCaptureOptions extends CaptureOptions {
  /** Where QEMU writes a view's temporary overlay (the vault's, or an agent's, work directory). */
  workDir: string;
  /** Disks (sourceKey) whose read has not returned yet; a read abandoned at a deadline stays listed until it does. */
  reading?: Set<string>;
}

/** A disk's source as one key: its file, or its QEMU and node (two QEMUs may both have a node `disk`). */
export const sourceKey = (source: DiskSource): string => (source.kind === "file" ? source.path : `${source.qmp}#${source.node}`);

/** While `work` runs, `key` is listed in `reading`. */
async function listed<T>(reading: Set<string> | undefined, key: string, work: () => Promise<T>): Promise<T> {
  reading?.add(key);
  try {
    return await work();
  } finally {
    reading?.delete(key);
  }
}

const NOTHING_TO_KEEP: Pick<SourceCapture, "committed" | "abandoned"> = { committed: async () => undefined, abandoned: async () => undefined };

/**
 * Begin capturing a disk from its source against its last map (null: initial replication, the whole disk):
 * the one place replication reads a disk.
 */
export async function beginCapture(source: DiskSource, previous: BlockMap | null, store: BlockStore, options: SourceCaptureOptions): Promise<BegunCapture> {
  if (source.kind === "file") {
    const result = await listed(options.reading, source.path, async () => captureDisk(source.path, await diskSize(source.path), previous, store, options));
    return { read: async () => ({ result, tracking: { checkpoint: null, reset: null }, ...NOTHING_TO_KEEP }), abandon: async () => undefined };
  }
  const views = path.join(options.workDir, "views");
  // QEMU creates the overlay there; it holds disk data as it was, so it is private like the vault.
  await fs.mkdir(views, { recursive: true, mode: 0o700 });
  const tracker = new KvmTracker({
    qmpSocket: source.qmp,
    node: source.node,
    dir: views,
    nbdSocket: nbdSocketFor(source.qmp),
    checkpoint: source.checkpoint ?? undefined,
  });
  const view = await listed(options.reading, sourceKey(source), () => tracker.begin());
  return {
    read: () => listed(options.reading, sourceKey(source), () => readView(view, source.checkpoint, previous, store, options)),
    abandon: () => view.abandon(),
  };
}

/** Why a capture must read the whole view although the replica has a state, or null when the tracker's list is to be trusted. */
function wholeReadReason(view: Capture, recorded: string | null, previous: BlockMap): string | null {
  if (isResync(view.changed)) return view.changed.resync;
  // A bitmap found with no checkpoint on record says nothing about this replica (another vault's, or an old protection's).
  if (recorded === null) return "no checkpoint is recorded for the replica";
  if (previous.size !== view.size) return `the disk's size changed (${previous.size} → ${view.size} bytes)`;
  return null;
}

async function readView(
  view: Capture,
  recorded: string | null,
  previous: BlockMap | null,
  store: BlockStore,
  options: SourceCaptureOptions,
): Promise<SourceCapture> {
  const reset = previous === null ? null : wholeReadReason(view, recorded, previous);
  const extents = previous === null || reset !== null || isResync(view.changed) ? undefined : view.changed;
  // A verify (resync) reads every block whatever the tracker says: it checks the stored copies.
  const only = options.mode === "verify" ? undefined : extents;
  let result: CaptureResult;
  try {
    result = await captureChunks((buffers) => viewChunks(view, only, options.blockSize, buffers), view.size, previous, store, options);
  } catch (error) {
    await view.abandon();
    throw error;
  }
  return {
    result,
    tracking: { checkpoint: view.checkpoint, reset },
    async committed() {
      // The point holds either way: a commit QEMU did not take shows at the next capture, which then reads all.
      await view.commit().catch(() => undefined);
    },
    // The rotation is undone: the checkpoint on record still covers everything since the replica's instant.
    abandoned: () => view.abandon(),
  };
}
