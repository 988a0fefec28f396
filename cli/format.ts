import type { JobView, TaskView } from "../engine";

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** A plain aligned table; the first row is the header. */
export function table(rows: Array<Array<string | number | null>>): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? "-" : String(c))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + "\n");
}

function taskLines(tasks: TaskView[], depth: number): string[] {
  return tasks.flatMap((t) => [
    `${"  ".repeat(depth)}- ${t.name}: ${t.state}${t.detail ? ` (${t.detail})` : ""}${t.error ? ` — ${t.error}` : ""}`,
    ...taskLines(t.children, depth + 1),
  ]);
}

export function jobText(job: JobView): string {
  const head = `job ${job.id} ${job.type} ${job.target}: ${job.state}${job.durationMs !== null ? ` in ${job.durationMs} ms` : ""}`;
  const error = job.error ? [`error ${job.error.code}: ${job.error.message}`] : [];
  return [head, ...taskLines(job.tasks, 1), ...error].join("\n");
}

/** Print a job; a failed job makes the command exit non-zero with the job's error as the reason. */
export function reportJob(job: JobView, json: boolean): void {
  print(job, json, () => jobText(job));
  if (job.state === "Failed") {
    process.stderr.write(`error: ${job.type} of ${job.target} failed: ${job.error?.message ?? "see the job's tasks"}\n`);
    process.exitCode = 1;
  }
}
