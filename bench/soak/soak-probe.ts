import type { Daemon } from "../../engine/server/launch";
import { readMachine, readProcess, type MachineReading, type ProcessReading } from "./soak-proc";

/** The part of GET /v1/status the soak reads (engine VaultStatus / ItemStatus). */
export interface StatusItem {
  name: string;
  state: string;
  health: string;
  rpoSeconds: number | null;
  points: number;
  failures: number;
  latestPoint: { capturedAt: string } | null;
}
export interface StatusBody {
  items: StatusItem[];
}

/** One round of the probe, once a second: three timed reads and the /proc counters. */
export interface ProbeRound {
  /** Wall clock (ms since the epoch) when the round began. */
  t: number;
  /** GET /v1/status: every item's health and RPO. Null when it failed or timed out. */
  statusMs: number | null;
  /** GET /v1/items/:item, one item a round in turn. */
  itemMs: number | null;
  /** GET /healthz: no engine work, so its time is the daemon's event-loop delay. */
  healthzMs: number | null;
  /** Every item's RPO (s) as the status read reported it, by item name; null before a first point. */
  rpo: Map<string, number | null> | null;
  process: ProcessReading;
  machine: MachineReading;
}

export const PROBE_INTERVAL_MS = 1000;

async function timedOrNull(read: () => Promise<{ ms: number; status: number }>): Promise<number | null> {
  try {
    const response = await read();
    return response.status === 200 ? response.ms : null;
  } catch {
    return null;
  }
}

const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));

/**
 * Probe the daemon once a second for `durationMs`: status, one item, healthz (in that order, one after
 * another, as a dashboard would), then /proc. A round that takes longer than a second delays the next.
 */
export async function probe(daemon: Daemon, names: string[], durationMs: number, onMinute?: (rounds: ProbeRound[]) => void): Promise<ProbeRound[]> {
  const rounds: ProbeRound[] = [];
  const start = Date.now();
  for (let n = 0; Date.now() < start + durationMs; n++) {
    await sleepUntil(start + n * PROBE_INTERVAL_MS);
    const t = Date.now();
    let rpo: ProbeRound["rpo"] = null;
    const statusMs = await timedOrNull(async () => {
      const response = await daemon.request<StatusBody>("GET", "/v1/status");
      if (response.status === 200) rpo = new Map(response.body.items.map((i) => [i.name, i.rpoSeconds]));
      return response;
    });
    const itemMs = await timedOrNull(() => daemon.request("GET", `/v1/items/${encodeURIComponent(names[n % names.length])}`));
    const healthzMs = await timedOrNull(() => daemon.request("GET", "/healthz"));
    const [process, machine] = await Promise.all([readProcess(daemon.pid), readMachine()]);
    rounds.push({ t, statusMs, itemMs, healthzMs, rpo, process, machine });
    if (n > 0 && n % 60 === 0) onMinute?.(rounds);
  }
  return rounds;
}
