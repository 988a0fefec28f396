/** What Linux's /proc says about a process and about the machine, read between two moments. */
import { promises as fs } from "node:fs";
import { runCommand } from "../common/measure";

/** One reading of a process: cumulative counters, and memory now. */
export interface ProcessReading {
  /** Wall clock (ms since the epoch). */
  t: number;
  /** utime + stime of every thread, in seconds. */
  cpuSeconds: number;
  /** Of that, in the kernel (stime): system calls, such as copying pages out of the page cache. */
  systemSeconds: number;
  /** utime + stime of the main thread (the event loop); the rest is the libuv pool, workers and V8's helpers. */
  mainThreadSeconds: number;
  rssKiB: number;
  /** Highest RSS so far (the kernel's VmHWM). */
  hwmKiB: number;
  /** Bytes the process caused to be read from the storage device (page-cache misses). */
  diskReadBytes: number;
  /** Bytes the process read through read(2) and friends, from the page cache or the device. */
  readBytes: number;
}

/** One reading of the machine's CPU time (all CPUs), in seconds. */
export interface MachineReading {
  t: number;
  busy: number;
  iowait: number;
  total: number;
}

let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  ticksPerSecond ??= Number((await runCommand("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  return ticksPerSecond;
}

/** `Name:   1234 kB` from /proc/<pid>/status. */
function kib(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

function ioField(io: string, name: string): number {
  const match = new RegExp(`^${name}: (\\d+)`, "m").exec(io);
  return match ? Number(match[1]) : 0;
}

/** utime and stime, in clock ticks, from a /proc stat line. */
function cpuTicks(stat: string): [number, number] {
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]), Number(fields[12])];
}

export async function readProcess(pid: number): Promise<ProcessReading> {
  const hz = await clockTicks();
  const [stat, mainStat, status, io] = await Promise.all([
    fs.readFile(`/proc/${pid}/stat`, "utf8"),
    fs.readFile(`/proc/${pid}/task/${pid}/stat`, "utf8"),
    fs.readFile(`/proc/${pid}/status`, "utf8"),
    fs.readFile(`/proc/${pid}/io`, "utf8").catch(() => ""),
  ]);
  const [utime, stime] = cpuTicks(stat);
  const [mainUtime, mainStime] = cpuTicks(mainStat);
  return {
    t: Date.now(),
    cpuSeconds: (utime + stime) / hz,
    systemSeconds: stime / hz,
    mainThreadSeconds: (mainUtime + mainStime) / hz,
    rssKiB: kib(status, "VmRSS"),
    hwmKiB: kib(status, "VmHWM"),
    diskReadBytes: ioField(io, "read_bytes"),
    readBytes: ioField(io, "rchar"),
  };
}

export async function readMachine(): Promise<MachineReading> {
  const hz = await clockTicks();
  const line = (await fs.readFile("/proc/stat", "utf8")).split("\n")[0];
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  return { t: Date.now(), busy: busy / hz, iowait: iowait / hz, total: (busy + idle + iowait) / hz };
}

export interface ProcessRates {
  /** Every thread, % of one core. */
  cpuPercent: number;
  systemPercent: number;
  mainThreadPercent: number;
  diskReadMiBs: number;
  readMiBs: number;
}

/** Between two process readings: CPU as % of one core, and read rates in MiB/s. */
export function processRates(a: ProcessReading, b: ProcessReading): ProcessRates {
  const seconds = (b.t - a.t) / 1000;
  const percent = (s: number) => (100 * s) / seconds;
  const mibs = (bytes: number) => bytes / 1024 / 1024 / seconds;
  return {
    cpuPercent: percent(b.cpuSeconds - a.cpuSeconds),
    systemPercent: percent(b.systemSeconds - a.systemSeconds),
    mainThreadPercent: percent(b.mainThreadSeconds - a.mainThreadSeconds),
    diskReadMiBs: mibs(b.diskReadBytes - a.diskReadBytes),
    readMiBs: mibs(b.readBytes - a.readBytes),
  };
}

/** Between two machine readings: busy and iowait as % of all CPUs. */
export function machineRates(a: MachineReading, b: MachineReading): { busyPercent: number; iowaitPercent: number } {
  const total = b.total - a.total || 1;
  return { busyPercent: (100 * (b.busy - a.busy)) / total, iowaitPercent: (100 * (b.iowait - a.iowait)) / total };
}
