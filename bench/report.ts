import { promises as fs } from "node:fs";
import * as path from "node:path";
import { MIB, type MachineInfo } from "./measure";
import type { BenchResults, Comparison, Unit } from "./summary";
import { ENCRYPTION_RUNS } from "./encryption";

const HEADER = ["Operation", "Ours", "Baseline", "Ratio", "Target", "Met"];
export const RATIO_NOTE = "Ratio = ours / baseline: above 1 is faster for throughput; below 1 is faster, smaller or leaner for the rest.";

export const mib = (bytes: number) => (bytes / MIB).toFixed(2);
export const rssMiB = (kib: number) => (kib / 1024).toFixed(1);

function formatValue(value: number, unit: Unit): string {
  if (unit === "MiB/s") return `${value.toFixed(1)} MiB/s`;
  if (unit === "ms") return `${Math.round(value)} ms`;
  if (unit === "bytes") return `${mib(value)} MiB`;
  return `${rssMiB(value)} MiB`; // KiB
}

function cells(c: Comparison): string[] {
  const baseline = `${c.baselineName}: ${c.baseline === null ? "skipped" : formatValue(c.baseline, c.unit)}`;
  return [
    c.operation,
    formatValue(c.ours, c.unit),
    baseline,
    c.ratio === null ? "-" : c.ratio.toFixed(2),
    c.maxRatio !== undefined ? `ratio <= ${c.maxRatio.toFixed(2)}` : c.minRatio !== undefined ? `ratio >= ${c.minRatio.toFixed(2)}` : "-",
    c.met === undefined ? "-" : c.met ? "yes" : "no",
  ];
}

/** A plain-text table with padded columns. */
export function textTable(comparisons: Comparison[]): string {
  const rows = [HEADER, ...comparisons.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line), "", RATIO_NOTE].join("\n");
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (row: string[]) => `| ${row.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The comparisons as a markdown table. */
export const comparisonsMarkdown = (comparisons: Comparison[]): string => markdownTable(HEADER, comparisons.map(cells));

/** The date and machine lines that open every report. */
export function machineLines(machine: MachineInfo): string[] {
  return [`- Date: ${machine.date}`, `- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.platform}, Node ${machine.node}`];
}

export const cacheLine = (cache: MachineInfo["cache"]): string =>
  `- Page cache: ${cache}${cache === "warm cache" ? " (dropping it was not permitted)" : " (dropped before every measured operation)"}`;

/** <name>.md for people, <name>.json with the raw figures for tools. */
export async function writeResultFiles(dir: string, name: string, markdown: string, raw: unknown): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, `${name}.md`), markdown);
  await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(raw, null, 2) + "\n");
}

/** Each run's raw figures, so a fastest run can be checked against the others. */
function initialRunsTable(results: BenchResults): string {
  const header = ["Run", "Ours in process (ms)", "Ours whole command (ms)", "cp + sync (ms)", "Stored (MiB)", "Peak RSS (MiB)"];
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

/** Each delta round's raw figures, so a mean or a fastest run can be checked against the others. */
function deltaRoundsTable(results: BenchResults): string {
  const header = ["Round", "Blocks changed", "Ours in process (ms)", "Ours whole command (ms)", "rsync (ms)", "Stored (MiB)", "Pack growth (MiB)", "Vault growth (MiB)", "rsync literal (MiB)", "Peak RSS (MiB)"];
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

/** Each encryption-cost run's raw figures, encrypted and unencrypted in the order they ran. */
function encryptionRunsTable(results: BenchResults): string {
  const header = ["Run", "Vault", "Initial replication in process (ms)", "Its CPU time (ms)", "Stored (MiB)", "Materialize in process (ms)", "Its CPU time (ms)", "Materialize peak RSS (MiB)"];
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
  const layout = Object.entries(image.layout).map(([kind, blocks]) => `${blocks} ${kind}`).join(", ");
  return [
    "# Replication benchmark",
    "",
    ...machineLines(machine),
    `- Image: ${image.bytes / MIB} MiB in ${image.blockBytes / 1024} KiB blocks (${layout}; seed ${image.seed})`,
    cacheLine(machine.cache),
    `- Times: fastest of ${results.runs} runs (${ENCRYPTION_RUNS} for the encryption cost); peak RSS: largest of them; bytes: mean per delta cycle; rsync baseline ${results.rsync}`,
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
