/**
 * One soak run of kvm machines: raw sparse disks of `diskMiB` with `dataMiB` of the soak's data at their
 * start (written into the file before QEMU opens it), one qemu-storage-daemon per machine, every machine
 * protected on a kvm site (tracked by dirty bitmaps), and the guest writes going through QEMU by qemu-io.
 * Optionally one machine's disk sits behind a QEMU throttle that limits its reads.
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COPY_FREQUENCY_MS } from "../../schema";
import { BLOCK_BYTES } from "../common/image";
import { MIB, runCommand, timed } from "../common/measure";
import { Random } from "../common/random";
import { SEED } from "../common/suite";
import { vaultFigures, type VaultFigures } from "./soak-cycles";
import type { ProbeRound } from "./soak-probe";
import {
  type GroupFigures,
  groupFigures,
  type GroupReading,
  type QemuMachine,
  readGroup,
  startQemuMachine,
  stopQemuMachines,
  throttleReads,
} from "./soak-qemu";
import { runSoak, type SoakRun } from "./soak-run";
import { WRITER } from "./soak-settings";
import { type Disks, makeDisks, type ProtectSetup, protectAll, SOAK_FREQUENCY } from "./soak-setup";
import { distribution, type Distribution, perMinute, windowFigures, type WindowFigures } from "./soak-stats";
import type { SoakSettings } from "./soak-summary";

export interface KvmRunOptions {
  workDir: string;
  settings: SoakSettings;
  /** MiB of data written at the start of each disk at setup. */
  dataMiB: number;
  /** Put machine 0's disk behind a throttle limiting reads to this many bytes a second (after its initial replication). */
  throttleBytesPerSecond?: number;
  log: (line: string) => void;
}

export interface KvmRun {
  names: string[];
  layout: Disks["layout"];
  setup: { imagesMs: number; qemuStartMs: number; protect: ProtectSetup };
  /** `dd bs=4M iflag=direct` of the data part of the first images: the device's own read rate. */
  device: { bytes: number; ms: number } | null;
  loadAverage: { start: number; windowStart: number; end: number };
  run: Omit<SoakRun, "idle" | "rounds" | "window"> & { span: SoakRun["window"]; idle: WindowFigures; window: WindowFigures; minutes: WindowFigures[] };
  /** RPO of the first machine (the one throttled, when one is), and of all the others. */
  rpoFirst: Distribution;
  rpoRest: Distribution;
  /** The throttled machine and its points in the window. */
  throttled: { name: string; bytesPerSecond: number; points: number } | null;
  qemuStorageDaemons: GroupFigures;
  vaultAfter: VaultFigures;
}

const DEVICE_SAMPLE_IMAGES = 10;

/** Every RPO sample of the named items over the rounds. */
function rpoOf(rounds: ProbeRound[], names: Set<string>): Distribution {
  const values: number[] = [];
  for (const round of rounds) for (const [name, rpo] of round.rpo ?? []) if (names.has(name) && rpo !== null) values.push(rpo);
  return distribution(values);
}

async function deviceRate(images: string[], dataMiB: number): Promise<KvmRun["device"]> {
  const sample = images.slice(0, DEVICE_SAMPLE_IMAGES);
  const count = Math.max(1, Math.floor(dataMiB / 4));
  const script = `for f; do dd if="$f" of=/dev/null bs=4M count=${count} iflag=direct status=none || exit 1; done`;
  const direct = await runCommand("sh", ["-c", script, "sh", ...sample]).catch(() => null);
  return direct ? { bytes: sample.length * count * 4 * MIB, ms: direct.ms } : null;
}

export async function kvmRun(options: KvmRunOptions): Promise<KvmRun> {
  const { workDir, settings, log } = options;
  const loadAtStart = os.loadavg()[0];
  const diskBytes = settings.diskMiB * MIB;
  const { ms: imagesMs, value: disks } = await timed(async () => {
    const made = await makeDisks(path.join(workDir, "images"), settings.items, (options.dataMiB * MIB) / BLOCK_BYTES, new Random(SEED), log);
    for (const image of made.images) await fs.truncate(image, diskBytes); // the rest of the disk: a hole
    return made;
  });
  const throttledName = options.throttleBytesPerSecond ? disks.names[0] : undefined;
  log(`starting ${settings.items} qemu-storage-daemons`);
  const machines: QemuMachine[] = [];
  try {
    const { ms: qemuStartMs } = await timed(async () => {
      for (const [i, image] of disks.images.entries())
        machines.push(await startQemuMachine(image, path.join(workDir, "q", disks.names[i]), disks.names[i] === throttledName));
    });
    const vault = path.join(workDir, "vault");
    log("protecting every machine on a kvm site (initial replication reads each disk through QEMU; setup, not measured)");
    const protect = await protectAll(
      vault,
      disks.names,
      "kvm",
      (i) => ({ qmp: machines[i].qmpSocket, disks: [{ name: "os", node: machines[i].node, os: true }] }),
      log,
    );
    if (options.throttleBytesPerSecond) {
      await throttleReads(machines[0], options.throttleBytesPerSecond);
      log(`${throttledName}'s reads throttled to ${options.throttleBytesPerSecond} bytes/s`);
    }
    const device = await deviceRate(disks.images, options.dataMiB);
    const pids = machines.map((m) => m.process.pid!);
    let qemuAtStart: GroupReading | undefined;
    let qemuFigures: GroupFigures | undefined;
    const run = await runSoak({
      vault,
      logFile: path.join(workDir, "daemon.log"),
      names: disks.names,
      settings,
      writer: { disks: machines.map((m) => m.liveUri), through: "qemu-io", diskBytes, ...WRITER, seed: SEED + 1 },
      copyFrequencyMs: COPY_FREQUENCY_MS[SOAK_FREQUENCY],
      onWindowStart: async () => void (qemuAtStart = await readGroup(pids)),
      onWindowEnd: async () => void (qemuFigures = groupFigures(qemuAtStart!, await readGroup(pids))),
      log,
    });
    const { idle, rounds, window, ...rest } = run;
    const points = throttledName ? run.cycles.pointsPerItem.byItem[throttledName] : 0;
    return {
      names: disks.names,
      layout: disks.layout,
      setup: { imagesMs, qemuStartMs, protect },
      device,
      loadAverage: { start: loadAtStart, windowStart: run.loadAtWindow, end: os.loadavg()[0] },
      run: { ...rest, span: window, idle: windowFigures(idle), window: windowFigures(rounds), minutes: perMinute(rounds) },
      rpoFirst: rpoOf(rounds, new Set(disks.names.slice(0, 1))),
      rpoRest: rpoOf(rounds, new Set(disks.names.slice(1))),
      throttled: throttledName ? { name: throttledName, bytesPerSecond: options.throttleBytesPerSecond!, points } : null,
      qemuStorageDaemons: qemuFigures!,
      vaultAfter: await vaultFigures(vault),
    };
  } finally {
    await stopQemuMachines(machines);
  }
}
