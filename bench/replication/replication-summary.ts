import { CP_BASELINE, DD_BASELINE, RSYNC_BASELINE } from "../common/baselines";
import type { ImageLayout } from "../common/image";
import { mean, median, MIB, type MachineInfo } from "../common/measure";
import type { CacheMode, CommandRound } from "./whole-command";
import type { DeltaRound, InitialResult } from "./replication";
import type { ChildFigures, Measured } from "../common/worker-protocol";
import type { EncryptionRun } from "./encryption";
import { compare, compareAtLeast, type Comparison } from "../common/summary";

/** Everything one run measured, as written to replication.json. */
export interface BenchResults {
  machine: MachineInfo;
  image: { bytes: number; blockBytes: number; layout: ImageLayout; seed: number };
  runs: number;
  idle: Measured<ChildFigures>;
  initial: InitialResult;
  delta: DeltaRound[];
  /** Delta cycles as `lifeboat sync` commands, cold and warm, against rsync from the same cache state. */
  wholeCommand: CommandRound[];
  /** dd's read time of the image, cold. */
  ddRunsMs: number[];
  encryption: EncryptionRun[];
  rsync: "measured" | "skipped";
  /** 1-minute load average when the measurements began and ended: others may share the machine. */
  loadAverage: { start: number; end: number };
}

/** Issue 13's targets: a delta cycle in at most half rsync's time, cold and warm; a scan within 2x of dd's read; initial replication at 0.8x cp. */
const DELTA_MAX_RATIO = 0.5;
const SCAN_MAX_DD_RATIO = 2;
const INITIAL_MIN_CP_RATIO = 0.8;

const throughput = (bytes: number, ms: number) => bytes / MIB / (ms / 1000);

/** Encryption may cost at most 10% of initial replication's and materialize's throughput. */
const ENCRYPTION_MIN_RATIO = 0.9;

/** Fastest run of each kind, encrypted against unencrypted, for initial replication and materialize. */
function encryptionComparisons(bytes: number, runs: EncryptionRun[]): Comparison[] {
  const fastest = (encrypted: boolean, of: (r: EncryptionRun) => number) =>
    throughput(bytes, Math.min(...runs.filter((r) => r.encrypted === encrypted).map(of)));
  const plain = "the same, unencrypted";
  const leastCpu = (encrypted: boolean, of: (r: EncryptionRun) => number) => Math.min(...runs.filter((r) => r.encrypted === encrypted).map(of));
  return [
    compareAtLeast(
      "Initial replication throughput, encrypted (in process)",
      fastest(true, (r) => r.protect.ms),
      plain,
      fastest(false, (r) => r.protect.ms),
      ENCRYPTION_MIN_RATIO,
    ),
    compareAtLeast(
      "Materialize throughput, encrypted (in process)",
      fastest(true, (r) => r.materialize.ms),
      plain,
      fastest(false, (r) => r.materialize.ms),
      ENCRYPTION_MIN_RATIO,
    ),
    // CPU time sways less than wall time when other work shares the machine.
    compare(
      "Initial replication CPU time, encrypted",
      "ms",
      leastCpu(true, (r) => r.protect.cpuMs),
      plain,
      leastCpu(false, (r) => r.protect.cpuMs),
    ),
    compare(
      "Materialize CPU time, encrypted",
      "ms",
      leastCpu(true, (r) => r.materialize.cpuMs),
      plain,
      leastCpu(false, (r) => r.materialize.cpuMs),
    ),
  ];
}

/** `lifeboat sync` against rsync, both from the same page-cache state: medians of the rounds. */
function wholeCommandComparisons(rounds: CommandRound[], ddMs: number): Comparison[] {
  const of = (mode: CacheMode) => rounds.filter((r) => r.cache === mode);
  return (["cold", "warm"] as const).flatMap((mode) => {
    const ours = median(of(mode).map((r) => r.ours.ms));
    const rsyncRuns = of(mode).flatMap((r) => (r.rsync ? [r.rsync.ms] : []));
    const rsyncMs = rsyncRuns.length ? median(rsyncRuns) : null;
    const cycle = compare(`Delta cycle, whole \`lifeboat sync\`, ${mode} cache`, "ms", ours, `${RSYNC_BASELINE}, ${mode}`, rsyncMs, DELTA_MAX_RATIO);
    return mode === "cold" ? [cycle, compare("Delta scan, whole `lifeboat sync`, cold cache", "ms", ours, `${DD_BASELINE}, cold`, ddMs)] : [cycle];
  });
}

/** Times take the median round; bytes, which the machine does not sway, the mean. */
function deltaComparisons(rounds: DeltaRound[], ddMs: number): Comparison[] {
  const rsyncRuns = rounds.flatMap((r) => (r.rsync ? [r.rsync] : []));
  const rsyncMs = rsyncRuns.length ? median(rsyncRuns.map((r) => r.ms)) : null;
  const literal = rsyncRuns.length ? mean(rsyncRuns.map((r) => r.literalBytes)) : null;
  const ours = rounds.map((r) => r.ours);
  const inProcess = median(ours.map((o) => o.ms));
  return [
    compare("Delta cycle time (in process, cold cache)", "ms", inProcess, `${RSYNC_BASELINE}, cold`, rsyncMs, DELTA_MAX_RATIO),
    compare("Delta scan (cycle in process, cold cache)", "ms", inProcess, `${DD_BASELINE}, cold`, ddMs, SCAN_MAX_DD_RATIO),
    compare("Delta cycle time (engine process, cold cache)", "ms", median(ours.map((o) => o.wallMs)), `${RSYNC_BASELINE}, cold`, rsyncMs),
    compare("Delta bytes stored per cycle", "bytes", mean(ours.map((o) => o.bytesStored)), "rsync literal data", literal, 1),
    compare("Delta pack growth per cycle", "bytes", mean(ours.map((o) => o.packBytesAfter - o.packBytesBefore)), "rsync literal data", literal),
    compare(
      "Delta vault growth per cycle (packs + catalog)",
      "bytes",
      mean(ours.map((o) => o.vaultBytesAfter - o.vaultBytesBefore)),
      "rsync literal data",
      literal,
    ),
  ];
}

export function summarize(results: BenchResults): Comparison[] {
  const { image, initial, idle, delta, wholeCommand, ddRunsMs, encryption } = results;
  const ours = initial.ours;
  const cpMiBs = throughput(image.bytes, median(initial.cpRunsMs));
  const ddMs = median(ddRunsMs);
  const idleNode = "idle Node with the engine loaded";
  return [
    compare("Initial replication throughput (in process)", "MiB/s", throughput(image.bytes, median(ours.map((r) => r.ms))), CP_BASELINE, cpMiBs),
    compareAtLeast(
      "Initial replication throughput (engine process)",
      throughput(image.bytes, median(ours.map((r) => r.wallMs))),
      CP_BASELINE,
      cpMiBs,
      INITIAL_MIN_CP_RATIO,
    ),
    ...deltaComparisons(delta, ddMs),
    ...wholeCommandComparisons(wholeCommand, ddMs),
    compare("Peak RSS, initial replication", "KiB", Math.max(...ours.map((r) => r.maxRssKiB)), idleNode, idle.maxRssKiB),
    compare("Peak RSS, delta cycle", "KiB", Math.max(...delta.map((r) => r.ours.maxRssKiB)), idleNode, idle.maxRssKiB),
    ...encryptionComparisons(image.bytes, encryption),
  ];
}
