/**
 * What the daemon's cycles did in the measured window, from the vault's catalog (read after the daemon
 * stopped) and the daemon's log: the points each item got, how long each cycle took, how long items
 * waited between points, and how the scheduler's ticks went.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Engine } from "../../engine";
import { MIB } from "../common/measure";
import { distribution, type Distribution } from "./soak-stats";

export interface CycleFigures {
  /** Points captured in the window, per item: every item must have some, or the run did not replicate. */
  pointsPerItem: { min: number; mean: number; max: number; itemsWithNone: string[]; byItem: Record<string, number> };
  /** Points every item gets in the window at least when each cycle starts on time: whole copy-frequency periods in it. */
  pointsExpectedPerItem: number;
  cycles: number;
  /** Wall time of one item's cycle (read and hash the disk, ship changed blocks), from the point's duration. */
  cycleMs: Distribution;
  /** Per cycle: bytes read / cycle time. */
  cycleReadMiBs: Distribution;
  bytesReadPerCycle: number;
  blocksChangedPerCycle: Distribution;
  bytesStoredPerCycle: number;
  /** Share of the window the scheduler spent inside cycles (sum of cycle times / window). */
  schedulerBusyPercent: number;
  /** The longest cycles in the window, longest first: which items were slow, and what they read. */
  longest: Array<{ item: string; ms: number; bytesRead: number; blocksChanged: number }>;
  /** Seconds between an item's consecutive points (the later one in the window): the copy frequency plus its wait. */
  intervalSeconds: Distribution;
}

const LONGEST_CYCLES = 5;

/** The points of every item, with what each cycle measured, from the catalog. */
async function pointRows(vault: string) {
  const engine = await Engine.open(vault);
  try {
    return await engine.vault.db
      .selectFrom("points")
      .innerJoin("items", "items.id", "points.item_id")
      .select(["items.name", "points.captured_at", "points.duration_ms", "points.bytes_read", "points.blocks_changed", "points.bytes_stored"])
      .orderBy("points.captured_at")
      .execute();
  } finally {
    await engine.close();
  }
}

export async function cycleFigures(vault: string, names: string[], window: { start: number; end: number }, copyFrequencyMs: number): Promise<CycleFigures> {
  const rows = await pointRows(vault);
  const inWindow = rows.filter((r) => r.captured_at >= window.start && r.captured_at <= window.end);
  const perItem = new Map(names.map((name) => [name, 0]));
  for (const row of inWindow) perItem.set(row.name, (perItem.get(row.name) ?? 0) + 1);
  const counts = [...perItem.values()];
  const intervals: number[] = [];
  const lastCapture = new Map<string, number>();
  for (const row of rows) {
    const previous = lastCapture.get(row.name);
    if (previous !== undefined && row.captured_at >= window.start && row.captured_at <= window.end) intervals.push((row.captured_at - previous) / 1000);
    lastCapture.set(row.name, row.captured_at);
  }
  const total = (of: (r: (typeof rows)[number]) => number) => inWindow.reduce((sum, r) => sum + of(r), 0);
  const cycles = inWindow.length || 1;
  return {
    pointsPerItem: {
      min: Math.min(...counts),
      mean: counts.reduce((a, b) => a + b, 0) / counts.length,
      max: Math.max(...counts),
      itemsWithNone: [...perItem].filter(([, n]) => n === 0).map(([name]) => name),
      byItem: Object.fromEntries(perItem),
    },
    pointsExpectedPerItem: Math.floor((window.end - window.start) / copyFrequencyMs),
    cycles: inWindow.length,
    cycleMs: distribution(inWindow.map((r) => r.duration_ms)),
    cycleReadMiBs: distribution(inWindow.filter((r) => r.duration_ms > 0).map((r) => r.bytes_read / MIB / (r.duration_ms / 1000))),
    bytesReadPerCycle: total((r) => r.bytes_read) / cycles,
    blocksChangedPerCycle: distribution(inWindow.map((r) => r.blocks_changed)),
    bytesStoredPerCycle: total((r) => r.bytes_stored) / cycles,
    schedulerBusyPercent: (100 * total((r) => r.duration_ms)) / (window.end - window.start),
    intervalSeconds: distribution(intervals),
    longest: [...inWindow]
      .sort((a, b) => b.duration_ms - a.duration_ms)
      .slice(0, LONGEST_CYCLES)
      .map((r) => ({ item: r.name, ms: r.duration_ms, bytesRead: r.bytes_read, blocksChanged: r.blocks_changed })),
  };
}

export interface TickFigures {
  /** Ticks that replicated something, ending in the window (the daemon logs each at its end). */
  ticks: number;
  itemsPerTick: Distribution;
  /** Seconds from one such tick's end to the next one's: how long a tick that replicates takes, back to back. */
  secondsBetween: Distribution;
  failures: number;
  /** The first few failure and scheduler-error lines, as logged. */
  failureLines: string[];
}

/** From `lifeboat serve`'s log: "<ISO time> replicated a, b, c" at the end of each tick that did cycles. */
export async function tickFigures(logFile: string, window: { start: number; end: number }): Promise<TickFigures> {
  const lines = (await fs.readFile(logFile, "utf8")).split("\n");
  const ends: Array<{ t: number; items: number }> = [];
  const failureLines: string[] = [];
  let failures = 0;
  for (const line of lines) {
    const t = Date.parse(line.slice(0, line.indexOf(" ")));
    if (!(t >= window.start && t <= window.end)) continue;
    const replicated = / replicated (.+)$/.exec(line);
    if (replicated) ends.push({ t, items: replicated[1].split(", ").length });
    if (/ failed \(| scheduler error: /.test(line)) {
      failures++;
      if (failureLines.length < 10) failureLines.push(line);
    }
  }
  return {
    ticks: ends.length,
    itemsPerTick: distribution(ends.map((e) => e.items)),
    secondsBetween: distribution(ends.slice(1).map((e, i) => (e.t - ends[i].t) / 1000)),
    failures,
    failureLines,
  };
}

export interface VaultFigures {
  /** Pack files in the store after the run, and their bytes. */
  packs: number;
  packBytes: number;
  /** The catalog database with its write-ahead log. */
  catalogBytes: number;
}

/** What the vault holds after the run: a status read lists every pack, and scans the block index. */
export async function vaultFigures(vault: string): Promise<VaultFigures> {
  let packs = 0;
  let packBytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith(".pack")) {
        packs++;
        packBytes += (await fs.stat(full)).size;
      }
    }
  };
  await walk(vault);
  let catalogBytes = 0;
  for (const file of ["catalog.sqlite", "catalog.sqlite-wal"])
    catalogBytes += await fs.stat(path.join(vault, file)).then(
      (s) => s.size,
      () => 0,
    );
  return { packs, packBytes, catalogBytes };
}
