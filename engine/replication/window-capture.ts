import type { Hooks } from "../../schema";
import { diskSize } from "../disks/block-reader";
import { withConsistentWindow } from "../disks/consistency";
import type { WindowJournal } from "../disks/window-journal";
import type { BlockStore } from "../store/block-store";
import type { BlockMap } from "./block-map";
import { captureDisk, type CaptureOptions, type CaptureResult } from "./capture";

/**
 * The capture orchestration, one for the engine and for agents: a consistent window over the machines
 * (their hooks), each disk read against its base into a block store, the store flushed. The callers
 * differ only in the store the blocks go to and in how they record what was read.
 */

export interface ReadOptions extends Omit<CaptureOptions, "onProgress"> {
  onProgress?: (bytesDone: number, size: number) => void;
  /** Paths whose read has not returned yet; a read abandoned at a deadline stays listed until it does. */
  reading?: Set<string>;
}

/** Read one disk against `previous` into `store`: the one place replication reads a disk. */
export async function readDisk(path: string, previous: BlockMap | null, store: BlockStore, options: ReadOptions): Promise<CaptureResult> {
  const { reading, onProgress, ...capture } = options;
  reading?.add(path);
  try {
    const size = await diskSize(path);
    return await captureDisk(path, size, previous, store, { ...capture, onProgress: onProgress && ((done) => onProgress(done, size)) });
  } finally {
    reading?.delete(path);
  }
}

/** One machine of a window: its hooks and each included disk with the map its read compares against. */
export interface WindowMachine {
  item: string;
  hooks: Hooks;
  disks: Array<{ path: string; base: BlockMap | null }>;
}

export interface WindowCaptureOptions {
  appConsistent: boolean;
  /** Skip the hooks: the machines are already stopped (a planned failover's final sync). */
  stopped?: boolean;
  store: BlockStore;
  blockSize: number;
  /** The capture instant, on the engine's clock. */
  now: () => number;
  /** Where open windows are recorded, so a killed process's machines are resumed. */
  journal?: WindowJournal;
  /** Aborting gives the window up: its machines are resumed at once, even while a read hangs. */
  signal?: AbortSignal;
  reading?: Set<string>;
}

export interface CapturedWindow {
  capturedAt: number;
  /** From the first hook to the flush, rounded up (a sub-millisecond window took time all the same). */
  durationMs: number;
  /** Per machine, per disk, in the order given. */
  results: CaptureResult[][];
}

export async function captureWindow(machines: WindowMachine[], options: WindowCaptureOptions): Promise<CapturedWindow> {
  const participants = options.stopped ? [] : machines.map((m) => ({ item: m.item, hooks: m.hooks, disks: m.disks.map((d) => d.path) }));
  const began = performance.now();
  let capturedAt = 0;
  const readAll = async () => {
    capturedAt = options.now();
    const out: CaptureResult[][] = [];
    for (const machine of machines) {
      const results: CaptureResult[] = [];
      for (const disk of machine.disks)
        results.push(await readDisk(disk.path, disk.base, options.store, { mode: "delta", blockSize: options.blockSize, reading: options.reading }));
      out.push(results);
    }
    return out;
  };
  const results = await withConsistentWindow(participants, options.appConsistent, () => abortable(readAll(), options.signal), options.journal);
  await abortable(options.store.flush(), options.signal);
  return { capturedAt, durationMs: Math.ceil(performance.now() - began), results };
}

/** The work's outcome, or the signal's reason once it aborts (the work itself runs on; its outcome is dropped). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined); // abandoned work that fails later is not an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
