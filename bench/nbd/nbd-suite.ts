/**
 * NBD suite: what reading a disk over NBD costs with our client (engine/nbd) against libnbd's tools on the
 * same qemu-nbd export, and against reading the image file itself — the measured reason for writing our
 * own client rather than driving nbdcopy / nbdinfo. Writes nbd.{md,json}. BENCH_NBD_IMAGE_MIB sets the
 * image's size (default 1024).
 */
import * as os from "node:os";
import * as path from "node:path";
import { changedExtents, dirtyBitmapContext, NbdClient } from "../../engine/nbd";
import { startQemuNbd } from "../../test/fixtures/qemu-nbd";
import { BLOCK_BYTES, makeImage } from "../common/image";
import { describeMachine, MIB, PageCache, runCommand, timed } from "../common/measure";
import { Random } from "../common/random";
import { textTable } from "../common/report";
import { CHANGED_FRACTION, mibFromEnv, RUNS, SEED, type SuiteContext } from "../common/suite";
import { compare, type Comparison } from "../common/summary";
import { type NbdResults, writeNbdResults } from "./nbd-report";

export const NBDCOPY_BASELINE = "nbdcopy URI null:";
export const CAT_BASELINE = "cat FILE > /dev/null";
export const NBDINFO_BASELINE = "nbdinfo --map=qemu:dirty-bitmap:B";

/** The engine reads 4 MiB at a time; a few reads in flight keep the server busy while the last one lands. */
const READ_BYTES = 4 * MIB;
const IN_FLIGHT = 4;

/** Read the whole export into reused 4 MiB buffers, IN_FLIGHT reads at once. */
async function readAll(socket: string): Promise<void> {
  const client = await NbdClient.connect({ socket }, { export: "" });
  try {
    let next = 0;
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      for (let at = next; at < client.size; at = next) {
        next += READ_BYTES;
        await client.read(at, Math.min(READ_BYTES, client.size - at), buffer);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    await client.close();
  }
}

async function listDirty(socket: string, bitmap: string): Promise<number> {
  const client = await NbdClient.connect({ socket }, { export: "", metaContexts: [dirtyBitmapContext(bitmap)] });
  try {
    return (await changedExtents(client, bitmap)).length;
  } finally {
    await client.close();
  }
}

/** The fastest of RUNS, each after the page cache is dropped (where it may be). */
async function fastest(cache: PageCache, work: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    await cache.drop();
    best = Math.min(best, (await timed(work)).ms);
  }
  return best;
}

export async function nbdSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const imageMiB = mibFromEnv("BENCH_NBD_IMAGE_MIB", 1024);
  const loadAtStart = os.loadavg()[0];
  const random = new Random(SEED);
  const cache = new PageCache();
  const raw = path.join(workDir, "disk.raw");
  log(`nbd: writing a ${imageMiB} MiB image`);
  await makeImage(raw, (imageMiB * MIB) / BLOCK_BYTES, random);

  const tracked = path.join(workDir, "tracked.qcow2");
  const blocks = (imageMiB * MIB) / BLOCK_BYTES;
  const changed = random.distinct(blocks, Math.max(1, Math.round(blocks * CHANGED_FRACTION)));
  log(`nbd: a qcow2 image with dirty bitmap b0 and ${changed.length} changed 64 KiB blocks`);
  await runCommand("qemu-img", ["create", "-q", "-f", "qcow2", tracked, `${imageMiB}M`]);
  await runCommand("qemu-img", ["bitmap", "--add", "--enable", "-g", String(BLOCK_BYTES), tracked, "b0"]);
  await runCommand("qemu-io", ["-f", "qcow2", ...changed.flatMap((block) => ["-c", `write -P 0xab ${block * BLOCK_BYTES} ${BLOCK_BYTES}`]), tracked]);

  const rawServer = await startQemuNbd(workDir, "raw", ["-f", "raw", "-r", raw]);
  const trackedServer = await startQemuNbd(workDir, "tracked", ["-f", "qcow2", "-r", "-B", "b0", tracked]);
  let results: NbdResults;
  try {
    log("nbd: reading the image: our client, nbdcopy, cat");
    const oursReadMs = await fastest(cache, () => readAll(rawServer.socket));
    const nbdcopyMs = await fastest(cache, () => runCommand("nbdcopy", [rawServer.uri, "null:"]));
    const catMs = await fastest(cache, () => runCommand("sh", ["-c", `cat '${raw}' > /dev/null`]));
    log("nbd: listing dirty extents: our client, nbdinfo --map");
    let extents = 0;
    const oursMapMs = await fastest(cache, async () => {
      extents = await listDirty(trackedServer.socket, "b0");
    });
    const nbdinfoMs = await fastest(cache, () => runCommand("nbdinfo", [`--map=${dirtyBitmapContext("b0")}`, trackedServer.uri]));
    results = {
      machine: describeMachine(cache),
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
      imageMiB,
      changedBlocks: changed.length,
      dirtyExtents: extents,
      read: { oursMs: oursReadMs, nbdcopyMs, catMs },
      map: { oursMs: oursMapMs, nbdinfoMs },
    };
  } finally {
    await Promise.all([rawServer.stop(), trackedServer.stop()]);
  }
  const throughput = (ms: number) => imageMiB / (ms / 1000);
  const table: Comparison[] = [
    compare(
      `read ${imageMiB} MiB over NBD (4 MiB reads, ${IN_FLIGHT} in flight)`,
      "MiB/s",
      throughput(results.read.oursMs),
      NBDCOPY_BASELINE,
      throughput(results.read.nbdcopyMs),
    ),
    compare(`read ${imageMiB} MiB over NBD`, "MiB/s", throughput(results.read.oursMs), CAT_BASELINE, throughput(results.read.catMs)),
    compare(`list dirty extents (${results.dirtyExtents})`, "ms", results.map.oursMs, NBDINFO_BASELINE, results.map.nbdinfoMs),
  ];
  console.log(`\nNBD benchmark\n\n${textTable(table)}`);
  await writeNbdResults(resultsDir, results, table);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
