// The tracking suite's figures: medians of the rounds, and issue 13's targets judged on them.
import { RSYNC_BASELINE } from "../common/baselines";
import type { ImageLayout } from "../common/image";
import { type MachineInfo, median } from "../common/measure";
import { compare, type Comparison } from "../common/summary";
import type { Round } from "./tracking-rounds";
import type { InitialFigures } from "./tracking-setup";

/** Issue 13: a tracked cycle at most a tenth of rsync's and of our scan's time, reading at most twice the changed bytes. */
export const TIME_MAX_RATIO = 0.1;
export const READ_MAX_RATIO = 2;

export const SCAN_BASELINE = "scan cycle (lifeboat sync, hyperv site)";
export const CHANGED_BASELINE = "changed bytes";

/** Everything one run measured, as written to tracking.json. */
export interface TrackingResults {
  machine: MachineInfo;
  loadAverage: { start: number; end: number };
  image: { bytes: number; blockBytes: number; layout: ImageLayout; seed: number; makeMs: number };
  initial: InitialFigures;
  rounds: Round[];
}

export type Cycle = "tracked" | "scan" | "rsync";
export const CYCLES: Cycle[] = ["tracked", "scan", "rsync"];

export const medianOf = (rounds: Round[], of: (round: Round) => number): number => median(rounds.map(of));

export function summarize({ rounds }: TrackingResults): Comparison[] {
  const ms = (cycle: Cycle) => medianOf(rounds, (r) => r[cycle].ms);
  const changed = medianOf(rounds, (r) => r.changedBytes);
  const operation = "Cycle wall time, whole command (median)";
  return [
    compare(operation, "ms", ms("tracked"), RSYNC_BASELINE, ms("rsync"), TIME_MAX_RATIO),
    compare(operation, "ms", ms("tracked"), SCAN_BASELINE, ms("scan"), TIME_MAX_RATIO),
    compare(
      "Bytes read from the disk per tracked cycle (QEMU's read_bytes, median)",
      "bytes",
      medianOf(rounds, (r) => r.tracked.diskReadBytes),
      CHANGED_BASELINE,
      changed,
      READ_MAX_RATIO,
    ),
    compare(
      "Bytes the engine read per tracked cycle (its bytesRead, median)",
      "bytes",
      medianOf(rounds, (r) => r.tracked.engineBytesRead),
      CHANGED_BASELINE,
      changed,
    ),
  ];
}
