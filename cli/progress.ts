import type { JobView, TaskView } from "../engine";

/** The innermost task under way, and the job's overall share done (by its top-level tasks). */
function whereIs(job: JobView): { path: string[]; detail: string | null; fraction: number } {
  const path: string[] = [];
  let detail: string | null = null;
  let level: TaskView[] = job.tasks;
  for (;;) {
    const current = level.find((t) => t.state === "InProgress" || t.state === "Suspended");
    if (!current) break;
    path.push(current.name);
    detail = current.detail;
    level = current.children;
  }
  const top = job.tasks;
  const done = top.filter((t) => t.state === "Succeeded").length;
  const running = top.find((t) => t.state === "InProgress");
  const fraction = top.length ? (done + (running?.progress ?? 0)) / top.length : job.state === "Succeeded" ? 1 : 0;
  return { path, detail, fraction };
}

/**
 * Shows a running job: on a terminal one line redrawn as a bar; otherwise a plain line each time the job
 * moves to another task. Goes to stderr, so stdout keeps only the result.
 */
export class ProgressView {
  private last = "";
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(job: JobView): void {
    const { path, detail, fraction } = whereIs(job);
    const where = path.join(" › ") || job.state;
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${job.type} ${job.target}: ${where}${detail ? ` (${detail})` : ""}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns || 120) - 1).padEnd(this.last.length)}`);
      this.last = line;
    } else {
      const line = `${job.type} ${job.target}: ${where}${detail && job.state === "Suspended" ? ` (${detail})` : ""}`;
      if (line !== this.last) this.stream.write(`${line}\n`);
      this.last = line;
    }
  }

  done(): void {
    if (this.stream.isTTY && this.last) this.stream.write("\n");
    this.last = "";
  }
}
