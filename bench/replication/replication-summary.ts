import { CP_BASELINE, RSYNC_BASELINE } from "../common/baselines";
import type { ImageLayout } from "../common/image";
import { mean, MIB, type MachineInfo } from "../common/measure";
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
  encryption: EncryptionRun[];
  rsync: "measured" | "skipped";
}

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

/** Times take the fastest round (the least disturbed by the machine); bytes, which the machine does not sway, the mean. */
function deltaComparisons(rounds: DeltaRound[]): Comparison[] {
  const rsyncRuns = rounds.flatMap((r) => (r.rsync ? [r.rsync] : []));
  const rsyncMs = rsyncRuns.length ? Math.min(...rsyncRuns.map((r) => r.ms)) : null;
  const literal = rsyncRuns.length ? mean(rsyncRuns.map((r) => r.literalBytes)) : null;
  const ours = rounds.map((r) => r.ours);
  return [
    compare("Delta cycle time (in process)", "ms", Math.min(...ours.map((o) => o.ms)), RSYNC_BASELINE, rsyncMs, 0.5),
    compare("Delta cycle time (whole command)", "ms", Math.min(...ours.map((o) => o.wallMs)), RSYNC_BASELINE, rsyncMs, 0.5),
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
  const { image, initial, idle, delta, encryption } = results;
  const ours = initial.ours;
  const cpMiBs = throughput(image.bytes, Math.min(...initial.cpRunsMs));
  const idleNode = "idle Node with the engine loaded";
  return [
    compare("Initial replication throughput (in process)", "MiB/s", throughput(image.bytes, Math.min(...ours.map((r) => r.ms))), CP_BASELINE, cpMiBs),
    compare("Initial replication throughput (whole command)", "MiB/s", throughput(image.bytes, Math.min(...ours.map((r) => r.wallMs))), CP_BASELINE, cpMiBs),
    ...deltaComparisons(delta),
    compare("Peak RSS, initial replication", "KiB", Math.max(...ours.map((r) => r.maxRssKiB)), idleNode, idle.maxRssKiB),
    compare("Peak RSS, delta cycle", "KiB", Math.max(...delta.map((r) => r.ours.maxRssKiB)), idleNode, idle.maxRssKiB),
    ...encryptionComparisons(image.bytes, encryption),
  ];
}
