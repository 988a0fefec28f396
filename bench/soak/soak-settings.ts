/** The soak's settings from the environment, its writer's rate, and what both soak sources record about the run. */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { runCommand } from "../common/measure";
import { mibFromEnv } from "../common/suite";
import type { SoakResults, SoakSettings } from "./soak-summary";

/** Writes per disk per interval, their size and the interval: light, continuous writes (about 3 KiB/s a disk). */
export const WRITER = { intervalMs: 5000, writesPerDisk: 4, writeBytes: 4096 };

/** A positive number from the environment, or the default when unset. */
export function numberFromEnv(name: string, fallback: number, whole: boolean): number {
  const text = process.env[name] ?? String(fallback);
  const value = Number(text);
  if (!(value > 0) || (whole && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${whole ? "whole " : ""}number, got '${text}'`);
  return value;
}

export function soakSettings(defaults: { items: number; diskMiB: number }): SoakSettings {
  return {
    items: numberFromEnv("BENCH_SOAK_ITEMS", defaults.items, true),
    diskMiB: mibFromEnv("BENCH_SOAK_DISK_MIB", defaults.diskMiB),
    minutes: numberFromEnv("BENCH_SOAK_MINUTES", 10, false),
    warmupMaxSeconds: numberFromEnv("BENCH_SOAK_WARMUP_MAX_S", 300, false),
    idleSeconds: numberFromEnv("BENCH_SOAK_IDLE_S", 30, false),
    cpuProfile: process.env.BENCH_SOAK_CPU_PROF === "1",
  };
}

/** Fail before any setup when the file system under `dir` has less than `bytes` free. */
export async function checkSpace(dir: string, bytes: number): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < bytes) throw new Error(`the soak needs about ${(bytes / 2 ** 30).toFixed(1)} GiB free under ${dir}; ${(free / 2 ** 30).toFixed(1)} GiB are`);
}

export async function sourceState(): Promise<SoakResults["source"]> {
  const root = path.resolve(__dirname, "../../..");
  const git = (args: string[]) =>
    runCommand("git", ["-C", root, ...args]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
  const commit = (await git(["rev-parse", "--short", "HEAD"])) || "unknown";
  const dirty = await git(["status", "--porcelain", "--", "engine"]);
  return { commit, uncommittedEngineFiles: dirty ? dirty.split("\n").length : 0 };
}
