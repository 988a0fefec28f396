import { spawn } from "node:child_process";
import { openSync, closeSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import type { ComputeSpec } from "../../schema";
import { EngineError } from "../errors";
import { runHook } from "../disks/hooks";

export type MachineState = "Materialized" | "Running" | "Stopped";

/**
 * Compute drivers. `none` leaves the machine's disks materialized. `process` runs the start command
 * detached (its output in start.log in the machine's directory), and the machine is Running once the
 * health check passes: a command exiting 0, or a URL answering 2xx.
 */
export async function startCompute(
  compute: ComputeSpec,
  dir: string,
  env: Record<string, string>,
  onSpawned?: (pid: number) => Promise<void>,
): Promise<{ pid: number | null; state: MachineState }> {
  if (compute.driver === "none") return { pid: null, state: "Materialized" };
  const log = openSync(path.join(dir, "start.log"), "a");
  const child = spawn("sh", ["-c", compute.start!], { cwd: dir, detached: true, stdio: ["ignore", log, log], env: { ...process.env, ...env } });
  closeSync(log);
  let exited: string | null = null;
  child.on("exit", (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with ${code}`));
  child.unref();
  // Written at once, before anything is awaited: a process killed before it has recorded the pid in the
  // catalog still leaves a way to stop what it started (see spawnedPid).
  if (child.pid) writeFileSync(path.join(dir, PID_FILE), `${child.pid}\n`);
  // Known before the health check waits: a crash meanwhile leaves a machine that can still be stopped.
  if (child.pid) await onSpawned?.(child.pid);
  const deadline = Date.now() + compute.healthTimeoutSeconds * 1000;
  for (;;) {
    if (exited && !compute.healthCheck) break;
    if (exited) throw new EngineError("StartFailed", `start command ${exited} before the machine became healthy (see ${path.join(dir, "start.log")})`);
    if (!compute.healthCheck || (await healthy(compute.healthCheck, dir, env))) break;
    if (Date.now() > deadline) {
      killGroup(child.pid!);
      throw new EngineError("HealthCheckFailed", `the machine did not pass its health check '${compute.healthCheck}' within ${compute.healthTimeoutSeconds} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid ?? null, state: "Running" };
}

async function healthy(check: string, dir: string, env: Record<string, string>): Promise<boolean> {
  if (/^https?:\/\//.test(check)) {
    return fetch(check, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
  }
  return runHook("health check", `cd '${dir}' && ${check}`, env, 10_000).then(
    () => true,
    () => false,
  );
}

/** The start command's process, as recorded in the machine's directory when it was spawned. */
const PID_FILE = "machine.pid";

/** The pid startCompute spawned in `dir`, or null when it spawned nothing there. */
export function spawnedPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dir, PID_FILE), "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Once a machine is stopped for good its pid may be reused: forget it. */
export function forgetSpawned(dir: string): void {
  rmSync(path.join(dir, PID_FILE), { force: true });
}

/** Stop a machine: its stop command, else kill the start command's whole process group. */
export async function stopCompute(compute: ComputeSpec, pid: number | null, env: Record<string, string>): Promise<void> {
  if (compute.driver === "none") return;
  if (compute.stop) await runHook("stop", compute.stop, env);
  if (pid) {
    killGroup(pid);
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
