// The tracking suite's results page: tracking.md and tracking.json.
import { RSYNC_BASELINE } from "../common/baselines";
import { cacheLine, comparisonsMarkdown, markdownTable, mib, RATIO_NOTE, reportHead, startEndLoadLine, writeResultFiles } from "../common/report";
import type { Comparison } from "../common/summary";
import type { CycleRun, Round } from "./tracking-rounds";
import { CYCLES, type Cycle, medianOf, READ_MAX_RATIO, TIME_MAX_RATIO, type TrackingResults } from "./tracking-summary";

const NAMES: Record<Cycle, string> = {
  tracked: "tracked: `lifeboat sync vm` (kvm site, QEMU's dirty bitmap)",
  scan: "scan: `lifeboat sync vm` (hyperv site, the raw file)",
  rsync: `\`${RSYNC_BASELINE}\``,
};
const READERS: Record<Cycle, string> = { tracked: "qemu-storage-daemon", scan: "lifeboat", rsync: "rsync (all its processes)" };

const withLoad = (text: string, run: CycleRun) => `${text} (load ${run.load.toFixed(1)})`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => (b ? (a / b).toFixed(3) : "-");

/** One measure for the three cycles: the median, each round's figure with the load average it ended at, and a ratio column. */
function measureTable(rounds: Round[], of: (run: CycleRun) => number, format: (value: number) => string, extra: [string, (cycle: Cycle) => string]): string {
  const header = ["Cycle", "Median", ...rounds.map((_, i) => `Round ${i + 1}`), extra[0]];
  const rows = CYCLES.map((cycle) => [
    NAMES[cycle],
    format(medianOf(rounds, (r) => of(r[cycle]))),
    ...rounds.map((r) => withLoad(format(of(r[cycle])), r[cycle])),
    extra[1](cycle),
  ]);
  return markdownTable(header, rows);
}

function timeTable(rounds: Round[]): string {
  const tracked = medianOf(rounds, (r) => r.tracked.ms);
  return measureTable(rounds, (run) => run.ms, seconds, [
    "tracked / this",
    (cycle) =>
      ratio(
        tracked,
        medianOf(rounds, (r) => r[cycle].ms),
      ),
  ]);
}

function readTable(rounds: Round[]): string {
  const changed = medianOf(rounds, (r) => r.changedBytes);
  const table = measureTable(
    rounds,
    (run) => run.diskReadBytes,
    (bytes) => `${mib(bytes)} MiB`,
    [
      "this / changed bytes",
      (cycle) =>
        ratio(
          medianOf(rounds, (r) => r[cycle].diskReadBytes),
          changed,
        ),
    ],
  );
  const readers = CYCLES.map((cycle) => `${cycle}: ${READERS[cycle]}`).join("; ");
  return `${table}\n\nThe process that reads the disk: ${readers}.`;
}

/** Where a whole lifeboat command's time and reads go: the job itself, and the floor of any command (Node, the program, the vault). */
function lifeboatTable(rounds: Round[]): string {
  const header = [
    "Command",
    "Whole command (median)",
    "Its job (median)",
    "Engine's bytesRead (median)",
    "lifeboat process read_bytes (median)",
    "Blocks changed (engine / bench)",
  ];
  const rows = (["tracked", "scan"] as const).map((cycle) => [
    NAMES[cycle],
    seconds(medianOf(rounds, (r) => r[cycle].ms)),
    seconds(medianOf(rounds, (r) => r[cycle].jobMs)),
    `${mib(medianOf(rounds, (r) => r[cycle].engineBytesRead))} MiB`,
    `${mib(medianOf(rounds, (r) => r[cycle].commandReadBytes))} MiB`,
    rounds.map((r) => `${r[cycle].blocksChanged} / ${r.changedBlocks}`).join(", "),
  ]);
  const floor = [
    "`lifeboat points vm` (tracked vault: opens it, no cycle)",
    seconds(medianOf(rounds, (r) => r.startup.ms)),
    "-",
    "-",
    `${mib(medianOf(rounds, (r) => r.startup.commandReadBytes))} MiB`,
    "-",
  ];
  return markdownTable(header, [...rows, floor]);
}

function roundsTable(rounds: Round[]): string {
  const header = ["Round", "Blocks changed", "Changed (MiB)", "Writing them through QEMU (qemu-io)", "Three cycles", "rsync literal (MiB)"];
  const rows = rounds.map((r, i) => [
    String(i + 1),
    String(r.changedBlocks),
    mib(r.changedBytes),
    seconds(r.writeMs),
    seconds(r.tracked.ms + r.scan.ms + r.rsync.ms),
    mib(r.rsync.literalBytes),
  ]);
  return markdownTable(header, rows);
}

function markdownReport(results: TrackingResults, comparisons: Comparison[]): string {
  const { machine, image, initial, rounds } = results;
  const layout = Object.entries(image.layout)
    .map(([kind, blocks]) => `${blocks} ${kind}`)
    .join(", ");
  return [
    ...reportHead("Change tracking benchmark", machine),
    `- Image: ${(image.bytes / 1024 ** 3).toFixed(2)} GiB raw in ${image.blockBytes / 1024} KiB blocks (${layout}; seed ${image.seed}), written out (not sparse), served by qemu-storage-daemon (raw on file, node \`disk\`, writable NBD export \`live\`)`,
    `- Each round: 1% of the blocks at random get new content (half text, half random) written through QEMU's live export by one qemu-io; then the tracked cycle, the scan cycle and rsync, each a whole command after \`sync; echo 3 > /proc/sys/vm/drop_caches\``,
    `- Bytes read from the disk: the kernel's read_bytes of the process that reads the disk (/proc/PID/io of qemu-storage-daemon before and after the tracked cycle; GNU time's %I, i.e. read_bytes of the command and its children, for the others)`,
    cacheLine(machine.cache),
    startEndLoadLine(results.loadAverage, machine.cpus),
    `- Medians of ${rounds.length} rounds; the load average (1 min) at the end of each command is beside its figure`,
    `- Setup (warm cache, not targets): image written in ${seconds(image.makeMs)}; \`lifeboat protect\` (initial replication) ${seconds(initial.trackedProtectMs)} tracked, ${seconds(initial.scanProtectMs)} scan; cp for rsync ${seconds(initial.copyMs)}`,
    "",
    "## Targets (issue 13)",
    "",
    `Tracked cycle ≤ ${TIME_MAX_RATIO}× rsync and ≤ ${TIME_MAX_RATIO}× our scan; bytes read ≤ ${READ_MAX_RATIO}× the changed bytes.`,
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## Wall time per cycle (whole command)",
    "",
    timeTable(rounds),
    "",
    "## Bytes read from the disk per cycle",
    "",
    readTable(rounds),
    "",
    "## What Lifeboat read and counted",
    "",
    lifeboatTable(rounds),
    "",
    "Each after the page cache was dropped. A lifeboat process's read_bytes include loading Node and the program and reading its vault; the tracked cycle's process reads no disk data (QEMU does), so its figure is that overhead. The job's duration is the cycle inside the process (the job's durationMs); the rest of the whole command is starting Node, loading the program and opening the vault, which `lifeboat points vm` measures alone.",
    "",
    "## Rounds",
    "",
    roundsTable(rounds),
    "",
    "Writing the change is not timed: its qemu-io process is shown beside the three cycles it feeds, to show it is not what limits a round.",
    "",
  ].join("\n");
}

/** tracking.md for people, tracking.json with the raw figures for tools. */
export function writeTrackingResults(dir: string, results: TrackingResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "tracking", markdownReport(results, comparisons), { ...results, comparisons });
}
