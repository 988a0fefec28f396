// A benchmark figure against a named baseline measured in the same run: what every suite reports.

export type Unit = "MiB/s" | "ms" | "bytes" | "KiB";

/** One line of the results table: our figure against a named baseline measured in the same run. */
export interface Comparison {
  operation: string;
  unit: Unit;
  ours: number;
  baselineName: string;
  /** Null when the baseline could not be measured. */
  baseline: number | null;
  /** ours / baseline. */
  ratio: number | null;
  /** The largest ratio the target allows; absent where there is no target. */
  maxRatio?: number;
  /** The smallest ratio the target allows (throughput that may lose at most so much); absent where there is no such target. */
  minRatio?: number;
  /** Absent where there is no target, or no baseline to judge it by. */
  met?: boolean;
}

/** A comparison; with maxRatio, whether ours / baseline stays within it. */
export function compare(operation: string, unit: Unit, ours: number, baselineName: string, baseline: number | null, maxRatio?: number): Comparison {
  const ratio = baseline ? ours / baseline : null;
  const target = maxRatio === undefined ? {} : { maxRatio, ...(ratio === null ? {} : { met: ratio <= maxRatio }) };
  return { operation, unit, ours, baselineName, baseline, ratio, ...target };
}

/** A comparison whose target is a least ratio: ours keeps at least minRatio of the baseline's throughput. */
export function compareAtLeast(operation: string, ours: number, baselineName: string, baseline: number, minRatio: number): Comparison {
  const ratio = ours / baseline;
  return { operation, unit: "MiB/s", ours, baselineName, baseline, ratio, minRatio, met: ratio >= minRatio };
}
