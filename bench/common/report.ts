import { promises as fs } from "node:fs";
import * as path from "node:path";
import { MIB, type MachineInfo } from "./measure";
import type { Comparison, Unit } from "./summary";

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
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join("  ")
      .trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line), "", RATIO_NOTE].join("\n");
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (row: string[]) => `| ${row.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The comparisons as a markdown table. */
export const comparisonsMarkdown = (comparisons: Comparison[]): string => markdownTable(HEADER, comparisons.map(cells));

/** The opening of every results page: its title, then the date and the machine it ran on. */
export function reportHead(title: string, machine: MachineInfo): string[] {
  return [`# ${title}`, "", `- Date: ${machine.date}`, `- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.platform}, Node ${machine.node}`];
}

/** `- Load average (1 min) at start / end: 0.12 / 0.40 on 2 CPUs`, with `busyNote` when there is one (the machine was shared). */
export function loadAverageLine(at: Array<[string, number]>, cpus: number, busyNote: string | false): string {
  const labels = at.map(([label]) => label).join(" / ");
  const values = at.map(([, value]) => value.toFixed(2)).join(" / ");
  return `- Load average (1 min) at ${labels}: ${values} on ${cpus} CPUs${busyNote ? ` (${busyNote})` : ""}`;
}

/** The load line of a suite measured between a start and an end, with a note when others shared the machine. */
export function startEndLoadLine(
  loadAverage: { start: number; end: number },
  cpus: number,
  note = "other processes shared the machine: times vary with them",
  busyAbove = 1,
): string {
  return loadAverageLine(
    [
      ["start", loadAverage.start],
      ["end", loadAverage.end],
    ],
    cpus,
    loadAverage.start + loadAverage.end > busyAbove && note,
  );
}

export const cacheLine = (cache: MachineInfo["cache"]): string =>
  `- Page cache: ${cache}${cache === "warm cache" ? " (dropping it was not permitted)" : " (dropped before every measured operation)"}`;

/** <name>.md for people, <name>.json with the raw figures for tools. */
export async function writeResultFiles(dir: string, name: string, markdown: string, raw: unknown): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, `${name}.md`), markdown);
  await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(raw, null, 2) + "\n");
}
