import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * The process that owns a running job or an open consistency window. A pid alone is not enough: pids
 * are reused, so the owner is also named by its start (the boot id and the start time in clock ticks,
 * field 22 of /proc/<pid>/stat). Only owners on this host can be checked; another host's are left alone.
 */
export interface ProcessOwner {
  host: string;
  pid: number;
  /** `<boot id>:<start ticks>`, or null where /proc is not available. */
  start: string | null;
}

export type OwnerState = "alive" | "gone" | "elsewhere";

let self: ProcessOwner | undefined;

/** This process, as an owner. */
export function thisProcess(): ProcessOwner {
  return (self ??= { host: hostname(), pid: process.pid, start: startOf(process.pid) });
}

/** Whether an owner still runs: "elsewhere" when it is on another host (its pid means nothing here). */
export function ownerState(owner: ProcessOwner): OwnerState {
  if (owner.host !== hostname()) return "elsewhere";
  if (owner.pid === process.pid) return owner.start === null || owner.start === thisProcess().start ? "alive" : "gone";
  const stat = procStat(owner.pid);
  if (stat === "no-proc") return processExists(owner.pid) ? "alive" : "gone";
  if (!stat || stat.state === "Z" || stat.state === "X") return "gone"; // a zombie is dead, only not reaped
  return owner.start === null || owner.start === `${bootId()}:${stat.start}` ? "alive" : "gone";
}

/** Words for messages: "process 4242 on host-a". */
export const ownerText = (owner: ProcessOwner) => `process ${owner.pid} on ${owner.host}`;

function startOf(pid: number): string | null {
  const stat = procStat(pid);
  return stat && stat !== "no-proc" ? `${bootId()}:${stat.start}` : null;
}

/** State letter and start ticks of a process; undefined when it does not exist, "no-proc" without /proc. */
function procStat(pid: number): { state: string; start: string } | undefined | "no-proc" {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return hasProc() ? undefined : "no-proc";
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses: count after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], start: fields[19] };
}

let procMounted: boolean | undefined;
function hasProc(): boolean {
  if (procMounted === undefined) {
    try {
      readFileSync("/proc/self/stat");
      procMounted = true;
    } catch {
      procMounted = false;
    }
  }
  return procMounted;
}

let boot: string | undefined;
/** Changes at every boot, so a pid and start time from before a reboot never match a process after it. */
function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      boot = "";
    }
  }
  return boot;
}

/** Whether a process with this pid exists (one owned by another user counts: signalling it is refused, not failed). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
