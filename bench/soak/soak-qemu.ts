/**
 * The kvm soak's QEMU side: one qemu-storage-daemon per machine (as one QEMU per VM), serving its raw disk
 * as block node `disk` (optionally behind a `throttle` filter node `slow`), its monitor on `qmp.sock`, and
 * its NBD server at `qmp.sock.nbd` (where the engine reads views) with a writable export `live` that the
 * guest's writes go through.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { QmpClient } from "../../engine/qmp";
import { type ProcessReading, readProcess } from "./soak-proc";

/** The block node of a throttled disk and its throttle group's id. */
export const THROTTLE_NODE = "slow";
const THROTTLE_GROUP = "slow-group";
const START_TIMEOUT_MS = 60_000;

export interface QemuMachine {
  qmpSocket: string;
  /** The node the guest writes to and Lifeboat protects: `disk`, or the throttle node over it. */
  node: string;
  /** `nbd+unix:///live?socket=...`: the guest's writes. */
  liveUri: string;
  process: ChildProcess;
  stderr(): string;
}

function daemonArgs(image: string, dir: string, throttled: boolean): string[] {
  const qmpSocket = path.join(dir, "qmp.sock");
  const top = throttled ? THROTTLE_NODE : "disk";
  return [
    "--blockdev",
    `driver=file,node-name=disk-file,filename=${image}`,
    "--blockdev",
    "driver=raw,node-name=disk,file=disk-file",
    // No limits yet: initial replication reads the whole disk at full speed; `throttleReads` sets them after.
    ...(throttled
      ? [
          "--object",
          `throttle-group,id=${THROTTLE_GROUP}`,
          "--blockdev",
          `driver=throttle,node-name=${THROTTLE_NODE},throttle-group=${THROTTLE_GROUP},file=disk`,
        ]
      : []),
    "--chardev",
    `socket,id=monitor,path=${qmpSocket},server=on,wait=off`,
    "--monitor",
    "chardev=monitor",
    "--nbd-server",
    `addr.type=unix,addr.path=${qmpSocket}.nbd`,
    "--export",
    `type=nbd,id=live,node-name=${top},name=live,writable=on`,
  ];
}

const isSocket = (file: string) =>
  fs.stat(file).then(
    (s) => s.isSocket(),
    () => false,
  );

/** Start the machine's daemon in `dir` and wait until both its sockets answer (QEMU binds them while it parses its options). */
export async function startQemuMachine(image: string, dir: string, throttled: boolean): Promise<QemuMachine> {
  await fs.mkdir(dir, { recursive: true });
  const qmpSocket = path.join(dir, "qmp.sock");
  const child = spawn("qemu-storage-daemon", daemonArgs(image, dir, throttled), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!((await isSocket(qmpSocket)) && (await isSocket(`${qmpSocket}.nbd`)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`qemu-storage-daemon for ${image} did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    qmpSocket,
    node: throttled ? THROTTLE_NODE : "disk",
    liveUri: `nbd+unix:///live?socket=${qmpSocket}.nbd`,
    process: child,
    stderr: () => stderr,
  };
}

/** Limit the throttled machine's reads (every reader: the view's backing reads pass the filter) to `bytesPerSecond`. */
export async function throttleReads(machine: QemuMachine, bytesPerSecond: number): Promise<void> {
  const qmp = await QmpClient.connect(machine.qmpSocket);
  try {
    await qmp.execute("qom-set", { path: `/objects/${THROTTLE_GROUP}`, property: "limits", value: { "bps-read": bytesPerSecond } });
  } finally {
    await qmp.close();
  }
}

/** Stop every daemon as an administrator would (SIGTERM), and SIGKILL any still there after 30 s. */
export async function stopQemuMachines(machines: QemuMachine[]): Promise<void> {
  await Promise.all(
    machines.map(async ({ process: child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** All the daemons together: CPU summed (% of one core between two readings), RSS summed. */
export interface GroupReading {
  readings: ProcessReading[];
}

export const readGroup = async (pids: number[]): Promise<GroupReading> => ({ readings: await Promise.all(pids.map((pid) => readProcess(pid))) });

export interface GroupFigures {
  processes: number;
  /** CPU of all of them between the readings, % of one core. */
  cpuPercent: number;
  rssKiB: { sum: number; perProcessMax: number };
}

export function groupFigures(a: GroupReading, b: GroupReading): GroupFigures {
  const seconds = (b.readings[0].t - a.readings[0].t) / 1000;
  const cpu = b.readings.reduce((sum, r, i) => sum + r.cpuSeconds - a.readings[i].cpuSeconds, 0);
  return {
    processes: b.readings.length,
    cpuPercent: (100 * cpu) / seconds,
    rssKiB: { sum: b.readings.reduce((sum, r) => sum + r.rssKiB, 0), perProcessMax: Math.max(...b.readings.map((r) => r.rssKiB)) },
  };
}
