import type { CaptureResult } from "../engine/replication/capture";
import { captureWindow } from "../engine/replication/window-capture";
import { beginCapture, type SourceCapture } from "../engine/replication/source-capture";
import type { DiskSource } from "../engine/tracking/disk-source";
import type { BlockMap } from "../engine/replication/block-map";
import type { AgentWork } from "../engine/agents/work";
import { diffMaps } from "../engine/agents/wire";
import { blockStoreOn } from "../engine/store/stack";
import type { Backend } from "../engine/store/backend";
import type { AgentWindowReport } from "../schema";
import type { AgentLink } from "./link";
import type { SealingKey } from "../engine/store/encrypt/sealing-key";
import { RemotePackIndex } from "./remote-index";
import type { DiskStates } from "./disk-states";
import type { WindowJournal } from "../engine/disks/window-journal";

export interface WindowContext {
  link: AgentLink;
  /** Opens the backend of the shared store (its packs), as mounted on this host; one per window. */
  openBackend: () => Backend;
  blockSize: number;
  /** Seals the blocks written (the vault's data key); undefined for a vault that is not encrypted. */
  dataKey: SealingKey | undefined;
  states: DiskStates;
  /** The engine's clock now (the agent's clock corrected by the last heartbeat). */
  engineNow: () => number;
  /** Where open windows are recorded, so a killed agent's machines are resumed when it starts again. */
  windows: WindowJournal;
  /** The agent's work directory (QEMU writes the overlays of the views it reads there). */
  workDir: string;
}

type WorkItem = AgentWork["items"][number];
type WorkDisk = WorkItem["disks"][number];

/**
 * Do one piece of work an engine handed out, as the engine would for its own disks: initial replication
 * (a full read, then a window for what changed meanwhile), resync (each stored copy checked, then a
 * window) or a delta window. Blocks go into packs of the shared store; the report, with the changed part
 * of each block map and where the new blocks lie, goes to the engine, which records the points.
 */
export async function runWork(ctx: WindowContext, work: AgentWork): Promise<AgentWindowReport> {
  const index = new RemotePackIndex(ctx.link);
  const store = blockStoreOn(ctx.openBackend(), index, ctx.dataKey);
  const held: SourceCapture[] = [];
  try {
    const bases = new Map<WorkDisk, { version: number; map: BlockMap | null }>();
    for (const item of work.items) for (const disk of item.disks) bases.set(disk, await ctx.states.get(item.name, disk));
    const sources = new Map<WorkDisk, DiskSource>();
    for (const item of work.items) for (const disk of item.disks) sources.set(disk, sourceOf(disk));

    // Initial replication and resync first read every disk outside the window (the machine keeps running).
    const scanned = new Map<WorkDisk, CaptureResult>();
    if (work.mode !== "delta") {
      for (const item of work.items) {
        for (const disk of item.disks) {
          const base = work.mode === "initial" ? null : bases.get(disk)!.map;
          const mode = work.mode === "initial" ? "full" : "verify";
          const scan = await (await beginCapture(sources.get(disk)!, base, store, { mode, blockSize: ctx.blockSize, workDir: ctx.workDir })).read();
          // The window follows from the scan's checkpoint: only what changed since the scan is read again.
          await scan.committed();
          const source = sources.get(disk)!;
          if (source.kind === "qemu") sources.set(disk, { ...source, checkpoint: scan.tracking.checkpoint });
          scanned.set(disk, scan.result);
        }
      }
      await store.flush();
    }
    const window = await captureWindow(
      work.items.map((item) => ({
        item: item.name,
        hooks: item.hooks,
        disks: item.disks.map((disk) => ({ path: disk.path, source: sources.get(disk)!, base: scanned.get(disk)?.map ?? bases.get(disk)!.map })),
      })),
      { appConsistent: work.appConsistent, store, blockSize: ctx.blockSize, now: ctx.engineNow, journal: ctx.windows, workDir: ctx.workDir },
    );
    held.push(...window.captures.flat());
    const finals = new Map<WorkDisk, SourceCapture>();
    for (const [n, item] of work.items.entries()) for (const [i, disk] of item.disks.entries()) finals.set(disk, window.captures[n][i]);

    const report: AgentWindowReport = {
      mode: work.mode,
      capturedAt: Math.round(window.capturedAt),
      appConsistent: work.appConsistent,
      durationMs: window.durationMs,
      items: work.items.map((item) => {
        const results = item.disks.flatMap((d) => [finals.get(d)!.result, ...(scanned.has(d) ? [scanned.get(d)!] : [])]);
        return {
          item: item.name,
          disks: item.disks.map((disk) => ({
            disk: disk.name,
            baseVersion: bases.get(disk)!.version,
            ...diffMaps(work.mode === "initial" ? null : bases.get(disk)!.map, finals.get(disk)!.result.map),
            ...(disk.tracked ? { tracking: finals.get(disk)!.tracking } : {}),
          })),
          bytesRead: sum(results, (r) => r.bytesRead),
          blocksChanged: sum(results, (r) => r.blocksChanged),
          bytesStored: sum(results, (r) => r.bytesStored),
          repaired: results.flatMap((r) => r.repaired),
        };
      }),
      blocks: index.written,
    };
    await ctx.link.window(report);
    // The engine recorded the points: the trackers let their old checkpoints go.
    for (const c of held.splice(0)) await c.committed();
    // The engine's state is now what was read: the next window compares against it without asking.
    for (const item of work.items)
      for (const disk of item.disks) ctx.states.set(item.name, disk.name, bases.get(disk)!.version + 1, finals.get(disk)!.result.map);
    return report;
  } finally {
    // Not recorded (the report failed or was refused): the trackers keep these changes for the next window.
    for (const c of held) await c.abandoned();
    await store.close();
  }
}

/** A disk as the engine handed it out: a file on this host, or a block node of a QEMU here, followed by its bitmap. */
const sourceOf = (disk: WorkDisk): DiskSource =>
  disk.tracked ? { kind: "qemu", qmp: disk.tracked.qmp, node: disk.path, checkpoint: disk.tracked.checkpoint } : { kind: "file", path: disk.path };

const sum = <T>(list: T[], of: (t: T) => number) => list.reduce((total, t) => total + of(t), 0);
