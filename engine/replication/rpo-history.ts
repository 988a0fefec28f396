import type { Vault } from "../vault";
import { HOUR, MINUTE } from "../clock";
import type { ItemRow } from "../inventory/items";
import { ValidationError, type RpoHistory, type RpoSample } from "../../schema";
export type { RpoHistory, RpoSample };
import { policyById } from "../catalog/policies";
import { captureTimes } from "../catalog/points";

/** The longest window asked for: a month, far beyond the 72 h that retention keeps points. */
const MAX_HOURS = 720;
const DEFAULT_HOURS = 24;
const DEFAULT_MAX_SAMPLES = 1000;

interface Sample {
  t: number;
  rpo: number;
}

/**
 * RPO over time, derived from the capture times of the points still held: RPO at t is t − the capture
 * time of the latest point at or before t. It rises by one second a second and drops to 0 at each new
 * point, so the exact series is a sawtooth given by its corners: the value at `from`, a peak and a zero
 * at each capture, and the value at `to`. No RPO exists before the first point. Points that retention
 * or a commit deleted are gone, so history reaches back only as far as the oldest point kept.
 */
export function rpoSawtooth(captures: number[], from: number, to: number): Sample[] {
  const times = [...new Set(captures)].sort((a, b) => a - b);
  const samples: Sample[] = [];
  let previous: number | undefined;
  for (const c of times) {
    if (c > to) break;
    if (c <= from) {
      previous = c;
      continue;
    }
    if (previous !== undefined) {
      if (!samples.length) samples.push({ t: from, rpo: (from - previous) / 1000 });
      samples.push({ t: c, rpo: (c - previous) / 1000 });
    }
    samples.push({ t: c, rpo: 0 });
    previous = c;
  }
  if (previous === undefined) return samples;
  if (!samples.length) samples.push({ t: from, rpo: (from - previous) / 1000 });
  if (samples[samples.length - 1].t < to) samples.push({ t: to, rpo: (to - previous) / 1000 });
  return samples;
}

/**
 * Thin a series to about `max` samples for a chart: the window is cut into max/2 equal spans and each
 * span keeps its lowest and highest sample, in time order. Unlike keeping every k-th sample (which
 * would hide the worst moments, the ones a DR chart is for), every span's highest RPO stays.
 */
export function decimate(samples: Sample[], max: number): Sample[] {
  if (samples.length <= max || samples.length < 2) return samples;
  const buckets = Math.max(1, Math.floor(max / 2));
  const start = samples[0].t;
  const span = samples[samples.length - 1].t - start || 1;
  const kept: Sample[] = [];
  let bucket = -1;
  let low: Sample | undefined;
  let high: Sample | undefined;
  const flush = () => {
    if (!low || !high) return;
    if (low === high) kept.push(low);
    else kept.push(...(low.t <= high.t ? [low, high] : [high, low]));
  };
  for (const s of samples) {
    const b = Math.min(buckets - 1, Math.floor(((s.t - start) / span) * buckets));
    if (b !== bucket) {
      flush();
      bucket = b;
      low = high = s;
    } else {
      if (s.rpo < low!.rpo) low = s;
      if (s.rpo >= high!.rpo) high = s;
    }
  }
  flush();
  return kept;
}

/** The window argument of the API: hours back from now, 24 by default. */
export function parseHours(value: string | number | undefined): number {
  if (value === undefined || value === "") return DEFAULT_HOURS;
  const hours = Number(value);
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS) {
    throw ValidationError.refused("hours", `hours must be a number above 0 and at most ${MAX_HOURS}`);
  }
  return hours;
}

export async function rpoHistory(vault: Vault, item: ItemRow, hours: number, maxSamples = DEFAULT_MAX_SAMPLES): Promise<RpoHistory> {
  const to = vault.clock.now();
  const from = to - hours * HOUR;
  const policy = await policyById(vault.db, item.policy_id);
  // The latest point before the window sets the RPO at its start; later ones are the teeth.
  const series = rpoSawtooth(await captureTimes(vault.db, item.id, from, to), from, to);
  const samples = decimate(series, maxSamples);
  return {
    item: item.name,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    rpoThresholdSeconds: (policy.rpo_threshold_minutes * MINUTE) / 1000,
    decimated: samples.length < series.length,
    samples: samples.map((s) => ({ t: new Date(s.t).toISOString(), rpoSeconds: Math.round(s.rpo) })),
  };
}
