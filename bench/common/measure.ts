import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

export const MIB = 1024 * 1024;

/** Run `work` and how long it took, on the monotonic clock. */
export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

/** Run `work`: its wall time and the CPU time this whole process spent meanwhile (every thread: main, libuv pool, workers). */
export async function timedWithCpu<T>(work: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const before = process.cpuUsage();
  const { ms, value } = await timed(work);
  const used = process.cpuUsage(before);
  return { ms, cpuMs: (used.user + used.system) / 1000, value };
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The middle value (the mean of the two middle ones for an even count): what one disturbed run cannot move. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Peak resident set size of this process so far, in KiB. */
export const peakRssKiB = (): number => process.resourceUsage().maxRSS;

export interface CommandResult {
  /** Wall time from spawn to exit, including the program's own startup. */
  ms: number;
  stdout: string;
}

/** Run a program to completion, with `input` on its stdin when given; a non-zero exit rejects with its stderr. */
export function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    // A child that exits without reading its input fails by its exit status, not by an EPIPE here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input); // no input: an empty stdin, at its end at once
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${command} ${args.join(" ")} ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim()}`));
    });
  });
}

/**
 * Drops the page cache before each measured operation so every side reads from disk. Containers often
 * may not; then the results say "warm cache" rather than pretend.
 */
export class PageCache {
  private failures = 0;

  async drop(): Promise<void> {
    try {
      await runCommand("sync", []);
      await fs.writeFile("/proc/sys/vm/drop_caches", "3\n");
    } catch {
      this.failures++;
    }
  }

  /** Read the files whole, so the measurement after it finds them in the page cache (a warm run). */
  async warm(files: string[]): Promise<void> {
    await runCommand("sh", ["-c", 'cat "$@" > /dev/null', "sh", ...files]);
  }

  get state(): "cold cache" | "warm cache" {
    return this.failures === 0 ? "cold cache" : "warm cache";
  }
}

/** The machine a run measured on, stated in every results file. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  date: string;
  cache: PageCache["state"];
}

export function describeMachine(cache: PageCache): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    cache: cache.state,
  };
}

/** Disk space the files take (allocated blocks, so holes of sparse files count nothing). */
export async function allocatedBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await fs.stat(file)).blocks * 512;
  return total;
}

/** Total bytes of the regular files under a directory. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}
