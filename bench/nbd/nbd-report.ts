import type { MachineInfo } from "../common/measure";
import { cacheLine, comparisonsMarkdown, startEndLoadLine, RATIO_NOTE, reportHead, writeResultFiles } from "../common/report";
import type { Comparison } from "../common/summary";

/** Everything one NBD run measured, as written to nbd.json (times are the fastest of the runs). */
export interface NbdResults {
  machine: MachineInfo;
  loadAverage: { start: number; end: number };
  imageMiB: number;
  changedBlocks: number;
  dirtyExtents: number;
  read: { oursMs: number; nbdcopyMs: number; catMs: number };
  map: { oursMs: number; nbdinfoMs: number };
}

const rate = (mib: number, ms: number) => `${(mib / (ms / 1000)).toFixed(0)} MiB/s`;

/** Why the engine uses engine/nbd rather than libnbd's tools, with this run's figures. */
function choice(results: NbdResults): string[] {
  const { read, map, imageMiB } = results;
  return [
    `nbdcopy copies faster (${rate(imageMiB, read.nbdcopyMs)} against our ${rate(imageMiB, read.oursMs)}): it is C, with several connections`,
    "and threads. But the engine needs the bytes in its own process, to hash, compress and store them: nbdcopy can only",
    "hand them over through a pipe or a file (one more copy, one process per range read) and reports failures as an exit",
    `status and text. Our client's rate is above what the engine's capture consumes (initial replication runs at about`,
    "440 MiB/s in bench/results/replication.md), so it is not the bottleneck. Listing dirty extents in process takes",
    `${map.oursMs.toFixed(0)} ms against ${map.nbdinfoMs.toFixed(0)} ms for nbdinfo (mostly its process start), and gives extents as data, not text`,
    "to parse. libnbd's library bindings (nbdsh, Python) are not installed here and not reachable from Node without a",
    "native addon. Errors come back per request as Lifeboat error codes: a lost bitmap is NbdContextUnavailable, a dead",
    "server ConnectionLost for every waiting read.",
  ];
}

function markdownReport(results: NbdResults, comparisons: Comparison[]): string {
  const { machine, loadAverage } = results;
  return [
    ...reportHead("NBD benchmark", machine),
    `- Image: ${results.imageMiB} MiB raw (the replication suite's mix of zero, text, pattern and random blocks, written out) served by \`qemu-nbd -f raw -r\` on a unix socket`,
    `- Dirty bitmap: a ${results.imageMiB} MiB qcow2 with bitmap b0 (64 KiB granularity), ${results.changedBlocks} random 64 KiB blocks written, served by \`qemu-nbd -B b0\`: ${results.dirtyExtents} dirty extents`,
    "- Ours: engine/nbd's NbdClient from connect to close; reads of 4 MiB into reused buffers, 4 in flight; `changedExtents` for the bitmap",
    "- Baselines: libnbd 1.14's `nbdcopy URI null:` and `nbdinfo --map`, each a process start to exit (what the engine would pay to drive them); `cat` of the image file (no NBD at all)",
    cacheLine(machine.cache),
    startEndLoadLine(loadAverage, machine.cpus),
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## The choice: our own client",
    "",
    ...choice(results),
    "",
  ].join("\n");
}

/** nbd.md for people, nbd.json with the raw figures for tools. */
export function writeNbdResults(dir: string, results: NbdResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "nbd", markdownReport(results, comparisons), { ...results, comparisons });
}
