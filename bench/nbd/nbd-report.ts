import type { MachineInfo } from "../common/measure";
import { cacheLine, comparisonsMarkdown, loadAverageLine, RATIO_NOTE, reportHead, writeResultFiles } from "../common/report";
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

function markdownReport(results: NbdResults, comparisons: Comparison[]): string {
  const { machine, loadAverage } = results;
  return [
    ...reportHead("NBD benchmark", machine),
    `- Image: ${results.imageMiB} MiB raw (the replication suite's mix of zero, text, pattern and random blocks, written out) served by \`qemu-nbd -f raw -r\` on a unix socket`,
    `- Dirty bitmap: a ${results.imageMiB} MiB qcow2 with bitmap b0 (64 KiB granularity), ${results.changedBlocks} random 64 KiB blocks written, served by \`qemu-nbd -B b0\`: ${results.dirtyExtents} dirty extents`,
    "- Ours: engine/nbd's NbdClient from connect to close; reads of 4 MiB into reused buffers, 4 in flight; `changedExtents` for the bitmap",
    "- Baselines: libnbd 1.14's `nbdcopy URI null:` and `nbdinfo --map`, each a process start to exit (what the engine would pay to drive them); `cat` of the image file (no NBD at all)",
    cacheLine(machine.cache),
    loadAverageLine(
      [
        ["start", loadAverage.start],
        ["end", loadAverage.end],
      ],
      machine.cpus,
      loadAverage.start + loadAverage.end > 1 && "other processes shared the machine: times vary with them",
    ),
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## The choice: our own client",
    "",
    "The engine needs the bytes in its own process (to hash, compress and store them) and the dirty extents as data,",
    "not a copy to another file or lines of text. Driving nbdcopy would mean a process per read range and a pipe to",
    "carry the data back; nbdinfo's map is text to parse, and libnbd's library bindings (nbdsh, Python) are not",
    "installed on these machines nor reachable from Node without a native addon. The figures above say what our",
    "client costs against those tools on the same export; errors come back as Lifeboat error codes per request",
    "(a lost bitmap is NbdContextUnavailable, a dead server ConnectionLost for every waiting read).",
    "",
  ].join("\n");
}

/** nbd.md for people, nbd.json with the raw figures for tools. */
export function writeNbdResults(dir: string, results: NbdResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "nbd", markdownReport(results, comparisons), { ...results, comparisons });
}
