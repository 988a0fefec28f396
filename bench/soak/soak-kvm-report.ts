/** The kvm soak's and the slow-disk comparison's tables and reports (soak-kvm.md, soak-slow.md). */
import { MIB, type MachineInfo } from "../common/measure";
import { loadAverageLine, markdownTable, reportHead } from "../common/report";
import type { KvmRun } from "./soak-kvm";
import type { Distribution } from "./soak-stats";
import type { SoakResults, SoakSettings } from "./soak-summary";

/** The issue's target for tracked machines: p99 RPO at most this many seconds at the 30 s copy frequency. */
export const TARGET_P99_RPO_SECONDS = 45;

interface Common {
  machine: MachineInfo;
  source: SoakResults["source"];
  settings: SoakSettings;
  dataMiB: number;
}
export interface KvmResults extends Common {
  run: KvmRun;
}
export interface SlowResults extends Common {
  a: KvmRun;
  b: KvmRun;
}

const n = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? "-" : v.toFixed(digits));
const s = (v: number | null) => (v === null ? "-" : `${v.toFixed(0)} s`);
const pct = (v: number) => `${v.toFixed(1)}% of one core`;
const mibText = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const rate = (bytes: number, ms: number) => bytes / MIB / (ms / 1000);
const dist = (d: Distribution, unit: string, digits = 0) => `p50 ${n(d.p50, digits)}${unit}, p99 ${n(d.p99, digits)}${unit}, max ${n(d.max, digits)}${unit}`;

/** Why a run's RPO figures do not stand: items that made no point in the window, or were sampled with none. */
function problemsOf(run: KvmRun): string[] {
  const problems: string[] = [];
  const none = run.run.cycles.pointsPerItem.itemsWithNone;
  if (none.length) problems.push(`${none.length} of ${run.names.length} items made no recovery point in the window (${none.slice(0, 10).join(", ")})`);
  if (run.run.window.rpoMissing) problems.push(`${run.run.window.rpoMissing} RPO samples were of items with no point at all`);
  if (run.run.window.rpoSeconds.count === 0) problems.push("no status read succeeded, so no RPO was sampled");
  return problems;
}

function notesOf(run: KvmRun): string[] {
  const notes: string[] = [];
  const { ticks, warmup, daemonExit } = run.run;
  if (ticks.failures)
    notes.push(`the daemon logged ${ticks.failures} failed cycles or scheduler errors in the window: ${ticks.failureLines.slice(0, 3).join(" | ")}`);
  if (!warmup.complete)
    notes.push(
      `warm-up cut short after ${warmup.seconds.toFixed(0)} s with ${warmup.itemsWithoutDaemonPoint} items still without a point from the daemon; measured anyway`,
    );
  if (daemonExit.killed) notes.push("the daemon did not stop within the time allowed and was killed");
  return notes;
}

const loadLine = (run: KvmRun, cpus: number) =>
  loadAverageLine(
    [
      ["start", run.loadAverage.start],
      ["window start", run.loadAverage.windowStart],
      ["end", run.loadAverage.end],
    ],
    cpus,
    run.loadAverage.windowStart + run.loadAverage.end > 1 && "other processes shared the machine",
  );

export function kvmRows(results: KvmResults): string[][] {
  const { run, settings } = results;
  const w = run.run.window;
  const idle = run.run.idle;
  const { cycles } = run.run;
  const qsd = run.qemuStorageDaemons;
  const io = run.run.writerFigures?.qemuIo;
  const writerSeconds = (run.run.writerFigures?.ms ?? 0) / 1000;
  const diskBytes = settings.diskMiB * MIB;
  const scanNeeds = (run.names.length * diskBytes) / MIB / 30;
  const deviceMiBs = run.device && rate(run.device.bytes, run.device.ms);
  const written = writtenBytesPerCycle(run);
  const p99 = w.rpoSeconds.p99;
  const valid = problemsOf(run).length === 0;
  return [
    [
      "RPO p99, every item sampled each second",
      s(p99),
      "copy frequency: 30 s",
      `<= ${TARGET_P99_RPO_SECONDS} s`,
      valid && p99 !== null && p99 <= TARGET_P99_RPO_SECONDS ? "yes" : "no",
    ],
    ["RPO p50", s(w.rpoSeconds.p50), "copy frequency: 30 s", "-", "-"],
    ["RPO max", s(w.rpoSeconds.max), "copy frequency: 30 s", "-", "-"],
    [
      "Recovery points per item in the window, fewest / mean",
      `${n(cycles.pointsPerItem.min)} / ${n(cycles.pointsPerItem.mean, 1)}`,
      `on time: ${cycles.pointsExpectedPerItem}`,
      ">= 1 for every item",
      cycles.pointsPerItem.itemsWithNone.length ? "no" : "yes",
    ],
    ["Cycle time (one item: capture, read the changed blocks, record)", dist(cycles.cycleMs, " ms"), "-", "-", "-"],
    ["Daemon CPU, mean over the window", pct(w.cpuPercent), `idle daemon: ${pct(idle.cpuPercent)}`, "-", "-"],
    ["Daemon RSS, peak / mean in the window", `${mibText(w.rssKiB.peak)} / ${mibText(w.rssKiB.mean)}`, `idle daemon: ${mibText(idle.rssKiB.peak)}`, "-", "-"],
    [`qemu-storage-daemon, all ${qsd.processes}: CPU over the window`, pct(qsd.cpuPercent), "-", "-", "-"],
    [
      `qemu-storage-daemon, all ${qsd.processes}: RSS at the window's end`,
      `${mibText(qsd.rssKiB.sum)} (largest ${mibText(qsd.rssKiB.perProcessMax)})`,
      "-",
      "-",
      "-",
    ],
    [
      `qemu-io (the guests' writes), all ${io?.processes ?? 0}: CPU over their life / RSS`,
      io ? `${pct((100 * io.cpuSeconds) / writerSeconds)} / ${mibText(io.rssKiBSum)}` : "-",
      "-",
      "-",
      "-",
    ],
    [
      "Bytes the engine read per cycle (bytesRead, mean)",
      `${(cycles.bytesReadPerCycle / 1024).toFixed(0)} KiB`,
      `written by the guest per disk per 30 s: ${(written / 1024).toFixed(0)} KiB`,
      "-",
      "-",
    ],
    ["Longest cycles (item: ms, KiB read)", longestText(run), "-", "-", "-"],
    ["Bytes stored per cycle (mean, compressed)", `${(cycles.bytesStoredPerCycle / 1024).toFixed(0)} KiB`, "-", "-", "-"],
    [
      `Read rate a scan of every disk at 30 s would need (${run.names.length} × ${settings.diskMiB} MiB / 30 s)`,
      `${scanNeeds.toFixed(0)} MiB/s`,
      `the device, dd bs=4M iflag=direct: ${n(deviceMiBs)} MiB/s`,
      "-",
      deviceMiBs ? `${(scanNeeds / deviceMiBs).toFixed(1)}× the device` : "-",
    ],
    [
      "Read rate the tracked cycles used (bytes read in the window / its length)",
      `${((cycles.bytesReadPerCycle * cycles.cycles) / MIB / w.seconds).toFixed(2)} MiB/s`,
      `a scan: ${scanNeeds.toFixed(0)} MiB/s`,
      "-",
      "-",
    ],
    ["GET /v1/status latency p50 / p99", `${n(w.statusMs.p50, 1)} / ${n(w.statusMs.p99, 1)} ms`, `idle daemon: ${n(idle.statusMs.p99, 1)} ms p99`, "-", "-"],
  ];
}

function writtenBytesPerCycle(run: KvmRun): number {
  const figures = run.run.writerFigures;
  if (!figures) return 0;
  return figures.bytes / run.names.length / (figures.ms / 30_000);
}

const longestText = (run: KvmRun) => run.run.cycles.longest.map((c) => `${c.item}: ${c.ms.toFixed(0)} ms, ${(c.bytesRead / 1024).toFixed(0)} KiB`).join("; ");

const HEADER = ["Measure", "Ours", "Baseline", "Target", "Met"];

function minutesTable(run: KvmRun): string {
  return markdownTable(
    ["Minute", "RPO p50 (s)", "RPO p99 (s)", "RPO max (s)", "Daemon CPU (% of one core)", "Daemon RSS mean (MiB)", "Machine busy (%)", "Status p99 (ms)"],
    run.run.minutes.map((m, i) => [
      String(i + 1),
      n(m.rpoSeconds.p50),
      n(m.rpoSeconds.p99),
      n(m.rpoSeconds.max),
      n(m.cpuPercent),
      n(m.rssKiB.mean / 1024),
      n(m.machineBusyPercent),
      n(m.statusMs.p99, 1),
    ]),
  );
}

function setupLines(results: Common, run: KvmRun): string[] {
  const { settings, dataMiB } = results;
  const w = run.run.writerFigures;
  return [
    `- **Disks.** ${run.names.length} raw images of ${settings.diskMiB} MiB, sparse: the first ${dataMiB} MiB written with the soak's data generator (blocks of 64 KiB: ${Object.entries(
      run.layout,
    )
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}) into the file before QEMU opens it, the rest a hole (${(run.setup.imagesMs / 1000).toFixed(0)} s).`,
    `- **QEMU.** One \`qemu-storage-daemon\` per machine (as one QEMU per VM; started in ${(run.setup.qemuStartMs / 1000).toFixed(1)} s in all): \`--blockdev driver=file\` + \`driver=raw,node-name=disk\`${run.throttled ? `; for ${run.throttled.name} a \`throttle\` filter node \`slow\` over \`disk\` in a \`throttle-group\`, which Lifeboat protects (so the view's reads pass the throttle) and the guest writes to; its group's \`bps-read\` set to ${run.throttled.bytesPerSecond} by QMP \`qom-set\` after its initial replication` : ""}, its monitor on \`qmp.sock\`, its NBD server on \`qmp.sock.nbd\` (where the engine reads views) with a writable export \`live\`.`,
    `- **Protect.** In process, one kvm site, one policy at 15 min: every machine with \`qmp\` and disk \`{ name: "os", node, os: true }\`; initial replication reads each whole disk through QEMU: ${(run.setup.protect.ms / 1000).toFixed(0)} s for all, ${(run.setup.protect.bytesRead / 2 ** 30).toFixed(1)} GiB read, ${(run.setup.protect.bytesStored / MIB).toFixed(0)} MiB stored.`,
    `- **Writes.** Through QEMU (the dirty bitmap only sees those): one long-running \`qemu-io -f raw nbd+unix:///live?socket=...\` per disk, fed \`write -P 0xNN OFFSET 4096\` on stdin, each acknowledged before the next; 4 writes of 4 KiB at random 4 KiB-aligned offsets per disk every 5 s, the disks in turn${w ? ` (${w.writes} writes, at most ${w.maxLagMs.toFixed(0)} ms behind schedule)` : ""}.`,
    `- **Daemon and probe.** As the files soak: \`lifeboat serve\` as a child, probed idle for ${settings.idleSeconds} s, then the policy at 30 s and the writer started, warm-up until every item has a point from the daemon (${run.run.warmup.seconds.toFixed(0)} s), then ${settings.minutes} min measured; every item's \`rpoSeconds\` from \`GET /v1/status\` each second. The qemu-storage-daemons' CPU and RSS from /proc at the window's start and end; qemu-io's from /proc just before they close.`,
  ];
}

export function kvmReport(results: KvmResults): { markdown: string; table: string } {
  const { run } = results;
  const w = run.run.window;
  const problems = problemsOf(run);
  const table = markdownTable(HEADER, kvmRows(results));
  const p99 = w.rpoSeconds.p99;
  const verdict = problems.length ? "INVALID RUN" : p99 !== null && p99 <= TARGET_P99_RPO_SECONDS ? "target met" : "target missed";
  const markdown = [
    ...reportHead("Soak benchmark, kvm machines (change tracking)", results.machine),
    `- Engine: commit ${results.source.commit}${results.source.uncommittedEngineFiles ? ` with ${results.source.uncommittedEngineFiles} uncommitted files under engine/` : ""}`,
    `- Workload: ${run.names.length} kvm machines, one ${results.settings.diskMiB} MiB raw disk each (${results.dataMiB} MiB of data), copy frequency 30 s, one daemon, measured for ${(w.seconds / 60).toFixed(1)} minutes`,
    loadLine(run, results.machine.cpus),
    "",
    `**Result: ${verdict}.** RPO p50 ${s(w.rpoSeconds.p50)}, p99 ${s(p99)}, max ${s(w.rpoSeconds.max)} (target p99 <= ${TARGET_P99_RPO_SECONDS} s).`,
    "",
    ...problems.map((p) => `- **Problem:** ${p}`),
    ...notesOf(run).map((p) => `- Note: ${p}`),
    "",
    table,
    "",
    "## Per minute",
    "",
    minutesTable(run),
    "",
    "## How it was measured",
    "",
    ...setupLines(results, run),
    "",
  ].join("\n");
  return { markdown, table };
}

export function slowReport(results: SlowResults): { markdown: string; table: string } {
  const { a, b } = results;
  const slow = b.throttled!;
  const row = (measure: string, ra: string, rb: string) => [measure, ra, rb];
  const rpoRows = (label: string, da: Distribution, db: Distribution) => [
    row(`${label}: RPO p99`, s(da.p99), s(db.p99)),
    row(`${label}: RPO p50`, s(da.p50), s(db.p50)),
    row(`${label}: RPO max`, s(da.max), s(db.max)),
  ];
  const slowInA = a.run.cycles.pointsPerItem.byItem[slow.name];
  const table = markdownTable(
    ["Measure", "Run A: every disk normal", `Run B: ${slow.name}'s reads throttled to ${slow.bytesPerSecond} B/s`],
    [
      ...rpoRows(`The other ${a.names.length - 1} machines`, a.rpoRest, b.rpoRest),
      ...rpoRows(`${slow.name}`, a.rpoFirst, b.rpoFirst),
      row(`${slow.name}: points in the window`, String(slowInA ?? "-"), String(slow.points)),
      row(
        "Points per item in the window, fewest / mean (all)",
        `${a.run.cycles.pointsPerItem.min} / ${n(a.run.cycles.pointsPerItem.mean, 1)}`,
        `${b.run.cycles.pointsPerItem.min} / ${n(b.run.cycles.pointsPerItem.mean, 1)}`,
      ),
      row("Cycle time, all items", dist(a.run.cycles.cycleMs, " ms"), dist(b.run.cycles.cycleMs, " ms")),
      row("Longest cycles (item: ms, KiB read)", longestText(a), longestText(b)),
      row("Daemon CPU, mean", pct(a.run.window.cpuPercent), pct(b.run.window.cpuPercent)),
      row("Failed cycles logged in the window", String(a.run.ticks.failures), String(b.run.ticks.failures)),
      row(
        "Load average (1 min) at window start / end",
        `${a.loadAverage.windowStart.toFixed(2)} / ${a.loadAverage.end.toFixed(2)}`,
        `${b.loadAverage.windowStart.toFixed(2)} / ${b.loadAverage.end.toFixed(2)}`,
      ),
    ],
  );
  const unchanged = a.rpoRest.p99 !== null && b.rpoRest.p99 !== null && b.rpoRest.p99 <= Math.max(a.rpoRest.p99 * 1.1, a.rpoRest.p99 + 2);
  const problems = [...problemsOf(a).map((p) => `run A: ${p}`), ...problemsOf(b).map((p) => `run B: ${p}`)];
  const markdown = [
    ...reportHead("Soak benchmark, one slow disk among kvm machines", results.machine),
    `- Engine: commit ${results.source.commit}${results.source.uncommittedEngineFiles ? ` with ${results.source.uncommittedEngineFiles} uncommitted files under engine/` : ""}`,
    `- Workload: ${a.names.length} kvm machines, one ${results.settings.diskMiB} MiB raw disk each (${results.dataMiB} MiB of data), copy frequency 30 s, one daemon; two runs of ${results.settings.minutes} min each on fresh images and vaults`,
    `- Run A: l${loadLine(a, results.machine.cpus).slice(3)}`,
    `- Run B: l${loadLine(b, results.machine.cpus).slice(3)}`,
    "",
    `**Result: the others' p99 RPO ${s(a.rpoRest.p99)} in run A, ${s(b.rpoRest.p99)} in run B: ${unchanged ? "unchanged (within 10% or 2 s)" : "NOT unchanged"}; the slow machine's p99 ${s(b.rpoFirst.p99)}.**`,
    "",
    ...problems.map((p) => `- **Problem:** ${p}`),
    ...notesOf(a).map((p) => `- Note (run A): ${p}`),
    ...notesOf(b).map((p) => `- Note (run B): ${p}`),
    "",
    table,
    "",
    "## How it was measured",
    "",
    ...setupLines(results, b),
    "",
  ].join("\n");
  return { markdown, table };
}
