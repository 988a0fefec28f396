// Bytes a process read from the storage device (the kernel's per-process I/O accounting, `read_bytes`):
// what reached the disk, not what the page cache answered.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { runCommand } from "../common/measure";

/** `read_bytes` of a running process, from /proc/PID/io (its threads and the children it reaped included). */
export async function processReadBytes(pid: number): Promise<number> {
  const io = await fs.readFile(`/proc/${pid}/io`, "utf8");
  const match = /^read_bytes: (\d+)$/m.exec(io);
  if (!match) throw new Error(`/proc/${pid}/io has no read_bytes line:\n${io}`);
  return Number(match[1]);
}

export interface MeasuredCommand {
  /** Wall time from spawn to exit: the whole command. */
  ms: number;
  stdout: string;
  /** Bytes the command read from the device, its child processes included (rsync forks its sender and receiver). */
  readBytes: number;
}

/**
 * Run a whole command under GNU time, whose %I is the kernel's ru_inblock for the command and every
 * process it waited for: their read_bytes in 512-byte units, taken at exit, where /proc/PID/io is gone.
 */
export async function measuredCommand(command: string, args: string[], scratchDir: string): Promise<MeasuredCommand> {
  const out = path.join(scratchDir, "time.out");
  const { ms, stdout } = await runCommand("/usr/bin/time", ["-o", out, "-f", "%I", command, ...args]);
  const blocks = Number((await fs.readFile(out, "utf8")).trim().split("\n").at(-1));
  if (!Number.isInteger(blocks)) throw new Error(`/usr/bin/time wrote no input block count for ${command} to ${out}`);
  return { ms, stdout, readBytes: blocks * 512 };
}
