import type { Hooks } from "../../schema";
import { withConsistentWindow } from "../disks/consistency";
import type { WindowJournal } from "../disks/window-journal";
import type { BlockStore } from "../store/block-store";
import type { DiskSource } from "../tracking/disk-source";
import type { BlockMap } from "./block-map";
import { beginCapture, type BegunCapture, type SourceCapture } from "./source-capture";

/**
 * The capture orchestration, one for the engine and for agents: a consistent window over the machines
 * (their hooks), each disk's capture begun there against its base (a file read there; a QEMU disk's view
 * taken there and read after the window), the store flushed. The callers differ only in the store the
 * blocks go to and in how they record what was read.
 */

/** One machine of a window: its hooks and each included disk with the map its read compares against. */
export interface WindowMachine {
  item: string;
  hooks: Hooks;
  /** `path` is what the hooks are told (LIFEBOAT_DISKS): a file, or a QEMU block node. */
  disks: Array<{ path: string; source: DiskSource; base: BlockMap | null }>;
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
  /** Where QEMU writes views' overlays (the vault's, or the agent's, work directory). */
  workDir: string;
  /** Aborting gives the window up: its machines are resumed at once, even while a read hangs. */
  signal?: AbortSignal;
  reading?: Set<string>;
}

export interface CapturedWindow {
  capturedAt: number;
  /** From the first hook to the flush, rounded up (a sub-millisecond window took time all the same). */
  durationMs: number;
  /** Per machine, per disk, in the order given: each to be committed once recorded, or abandoned. */
  captures: SourceCapture[][];
}

export async function captureWindow(machines: WindowMachine[], options: WindowCaptureOptions): Promise<CapturedWindow> {
  const participants = options.stopped ? [] : machines.map((m) => ({ item: m.item, hooks: m.hooks, disks: m.disks.map((d) => d.path) }));
  const began = performance.now();
  let capturedAt = 0;
  const begun: BegunCapture[][] = [];
  const beginAll = async () => {
    capturedAt = options.now();
    for (const machine of machines) {
      const disks: BegunCapture[] = [];
      begun.push(disks);
      for (const disk of machine.disks)
        disks.push(
          await beginCapture(disk.source, disk.base, options.store, {
            mode: "delta",
            blockSize: options.blockSize,
            workDir: options.workDir,
            reading: options.reading,
          }),
        );
    }
  };
  // Begun inside the window (after the pause and quiesce hooks), never before.
  let beginning: Promise<void> | undefined;
  try {
    await withConsistentWindow(
      participants,
      options.appConsistent,
      () => {
        beginning = beginAll();
        return abortable(beginning, options.signal);
      },
      options.journal,
    );
  } catch (error) {
    // Views begun (now, or later by a begin the deadline left running) keep their changes for the next capture.
    const abandonBegun = () => Promise.all(begun.flat().map((b) => b.abandon()));
    void (beginning ?? Promise.resolve()).then(abandonBegun, abandonBegun);
    throw error;
  }
  const reading = readAll(begun);
  try {
    const captures = await abortable(reading, options.signal);
    await abortable(options.store.flush(), options.signal);
    return { capturedAt, durationMs: Math.ceil(performance.now() - began), captures };
  } catch (error) {
    void reading.then(abandonAll, () => undefined);
    throw error;
  }
}

/** Read every begun capture; when one fails, the others (read or not) are abandoned and the failure rethrown. */
async function readAll(begun: BegunCapture[][]): Promise<SourceCapture[][]> {
  const read: SourceCapture[][] = [];
  let failure: unknown;
  for (const disks of begun) {
    const results: SourceCapture[] = [];
    read.push(results);
    for (const b of disks) {
      if (failure !== undefined) {
        await b.abandon();
        continue;
      }
      try {
        results.push(await b.read());
      } catch (error) {
        failure = error;
      }
    }
  }
  if (failure !== undefined) {
    await abandonAll(read);
    throw failure;
  }
  return read;
}

const abandonAll = async (captures: SourceCapture[][]): Promise<void> => {
  for (const c of captures.flat()) await c.abandoned();
};

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
