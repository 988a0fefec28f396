/**
 * Child process of the soak suite: `node dist/bench/soak-writer.js '<WriterConfig as JSON>'`. Keeps light
 * writes going to every disk, as running machines do, until SIGTERM or SIGINT; then prints its figures as
 * one JSON line. Writes to files go through the page cache without fsync, as a guest's writes reach a
 * host's files; writes to QEMU's disks go through one qemu-io per disk (soak-disk-sinks.ts).
 */
import { performance } from "node:perf_hooks";
import { type DiskSink, fileSink, QemuIoSink, type QemuIoFigures, qemuIoFigures } from "./soak-disk-sinks";
import { Random } from "../common/random";
import { emitFigures, type ChildFigures } from "../common/worker-protocol";
import { peakRssKiB } from "../common/measure";

export interface WriterConfig {
  /** Image files, or (through "qemu-io") the disks' writable NBD export URIs. */
  disks: string[];
  through?: "file" | "qemu-io";
  diskBytes: number;
  /** Every disk gets `writesPerDisk` writes once per interval; the disks take turns, spread evenly over it. */
  intervalMs: number;
  writesPerDisk: number;
  /** Bytes per write, at an offset aligned to it; new random bytes every time. */
  writeBytes: number;
  seed: number;
}

export interface WriterFigures extends ChildFigures {
  writes: number;
  bytes: number;
  /** How far behind its schedule the writer fell at worst (a busy machine delays its timers). */
  maxLagMs: number;
  /** Through "qemu-io": what its processes cost. */
  qemuIo?: QemuIoFigures;
}

async function run(config: WriterConfig): Promise<void> {
  const random = new Random(config.seed);
  const qemuIo = config.through === "qemu-io";
  const handles: DiskSink[] = qemuIo ? config.disks.map((uri) => new QemuIoSink(uri)) : await Promise.all(config.disks.map(fileSink));
  const slots = config.diskBytes / config.writeBytes;
  const slotMs = config.intervalMs / config.disks.length;
  const data = Buffer.alloc(config.writeBytes);
  const start = performance.now();
  let stopping = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  let writes = 0;
  let maxLagMs = 0;
  for (let turn = 0; !stopping; turn++) {
    const handle = handles[turn % handles.length];
    for (let n = 0; n < config.writesPerDisk; n++) {
      random.fill(data);
      await handle.write(data, random.below(slots) * config.writeBytes);
      writes++;
    }
    const next = start + (turn + 1) * slotMs;
    const wait = next - performance.now();
    maxLagMs = Math.max(maxLagMs, -wait);
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  const qemuIoCost = qemuIo ? await qemuIoFigures(handles as QemuIoSink[]) : undefined;
  for (const handle of handles) await handle.close();
  const figures: WriterFigures = {
    ms: performance.now() - start,
    maxRssKiB: peakRssKiB(),
    writes,
    bytes: writes * config.writeBytes,
    maxLagMs,
    qemuIo: qemuIoCost,
  };
  emitFigures(figures);
}

run(JSON.parse(process.argv[2] ?? "{}") as WriterConfig).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
