// The replication suite's results page: replication.md and replication.json.
import { MIB } from "../common/measure";
import { comparisonsMarkdown, markdownTable, mib, RATIO_NOTE, reportHead, rssMiB, startEndLoadLine, writeResultFiles } from "../common/report";
import type { Comparison } from "../common/summary";
import { ENCRYPTION_RUNS } from "./encryption";
import type { BenchResults } from "./replication-summary";

/** Each run's raw figures, so a median run can be checked against the others. */
function initialRunsTable(results: BenchResults): string {
  const header = ["Run", "Ours in process (ms)", "Ours engine process (ms)", "cp + sync (ms)", "Stored (MiB)", "Peak RSS (MiB)"];
  const rows = results.initial.ours.map((ours, i) => [
    String(i + 1),
    ours.ms.toFixed(0),
    ours.wallMs.toFixed(0),
    results.initial.cpRunsMs[i].toFixed(0),
    mib(ours.bytesStored),
    rssMiB(ours.maxRssKiB),
  ]);
  return markdownTable(header, rows);
}

/** Each delta round's raw figures (cold cache, the engine in its own process), so a mean or a median can be checked against the others. */
function deltaRoundsTable(results: BenchResults): string {
  const header = [
    "Round",
    "Blocks changed",
    "Ours in process (ms)",
    "Ours engine process (ms)",
    "rsync (ms)",
    "Stored (MiB)",
    "Pack growth (MiB)",
    "Vault growth (MiB)",
    "rsync literal (MiB)",
    "Peak RSS (MiB)",
  ];
  const rows = results.delta.map((round, i) => {
    const { ours, rsync } = round;
    return [
      String(i + 1),
      String(round.changedBlocks),
      ours.ms.toFixed(0),
      ours.wallMs.toFixed(0),
      rsync ? rsync.ms.toFixed(0) : "skipped",
      mib(ours.bytesStored),
      mib(ours.packBytesAfter - ours.packBytesBefore),
      mib(ours.vaultBytesAfter - ours.vaultBytesBefore),
      rsync ? mib(rsync.literalBytes) : "skipped",
      rssMiB(ours.maxRssKiB),
    ];
  });
  return markdownTable(header, rows);
}

/** Each whole-command round: `lifeboat sync` and rsync from the same page-cache state. */
function wholeCommandTable(results: BenchResults): string {
  const header = ["Round", "Page cache", "Blocks changed", "lifeboat sync (ms)", "rsync (ms)", "Stored (MiB)", "rsync literal (MiB)"];
  const rows = results.wholeCommand.map((round, i) => [
    String(Math.floor(i / 2) + 1),
    round.cache,
    String(round.changedBlocks),
    round.ours.ms.toFixed(0),
    round.rsync ? round.rsync.ms.toFixed(0) : "skipped",
    mib(round.ours.bytesStored),
    round.rsync ? mib(round.rsync.literalBytes) : "skipped",
  ]);
  return markdownTable(header, rows);
}

/** Each encryption-cost run's raw figures, encrypted and unencrypted in the order they ran. */
function encryptionRunsTable(results: BenchResults): string {
  const header = [
    "Run",
    "Vault",
    "Initial replication in process (ms)",
    "Its CPU time (ms)",
    "Stored (MiB)",
    "Materialize in process (ms)",
    "Its CPU time (ms)",
    "Materialize peak RSS (MiB)",
  ];
  const rows = results.encryption.map((run, i) => [
    String(Math.floor(i / 2) + 1),
    run.encrypted ? "encrypted" : "unencrypted",
    run.protect.ms.toFixed(0),
    run.protect.cpuMs.toFixed(0),
    mib(run.protect.bytesStored),
    run.materialize.ms.toFixed(0),
    run.materialize.cpuMs.toFixed(0),
    rssMiB(run.materialize.maxRssKiB),
  ]);
  return markdownTable(header, rows);
}

function markdownReport(results: BenchResults, comparisons: Comparison[]): string {
  const { machine, image } = results;
  const layout = Object.entries(image.layout)
    .map(([kind, blocks]) => `${blocks} ${kind}`)
    .join(", ");
  return [
    ...reportHead("Replication benchmark", machine),
    `- Image: ${image.bytes / MIB} MiB in ${image.blockBytes / 1024} KiB blocks (${layout}; seed ${image.seed})`,
    machine.cache === "cold cache"
      ? "- Page cache: dropped before every cold measurement; a warm one reads the files it uses just before"
      : "- Page cache: warm throughout (dropping it was not permitted): the cold figures are warm too",
    `- Times: median of ${results.runs} runs (fastest of ${ENCRYPTION_RUNS} for the encryption cost); peak RSS: largest of them; bytes: mean per delta cycle; rsync baseline ${results.rsync}`,
    `- dd read of the image, cold (ms): ${results.ddRunsMs.map((ms) => ms.toFixed(0)).join(", ")}`,
    startEndLoadLine(results.loadAverage, machine.cpus),
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## Initial replication runs",
    "",
    initialRunsTable(results),
    "",
    "## Delta rounds",
    "",
    deltaRoundsTable(results),
    "",
    "## Delta cycles as whole commands",
    "",
    wholeCommandTable(results),
    "",
    "## Encryption at rest: what it costs",
    "",
    encryptionRunsTable(results),
    "",
  ].join("\n");
}

/** replication.md for people, replication.json with the raw figures for tools. */
export function writeResults(dir: string, results: BenchResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "replication", markdownReport(results, comparisons), { ...results, comparisons });
}
