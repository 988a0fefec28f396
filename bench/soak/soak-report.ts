import { loadAverageLine, markdownTable, mib, reportHead, writeResultFiles } from "../common/report";
import { MIB } from "../common/measure";
import { PROBE_INTERVAL_MS } from "./soak-probe";
import type { ThreadProfile } from "./soak-profile";
import type { SqlTrace } from "./soak-sqltrace";
import type { Distribution, WindowFigures } from "./soak-stats";
import { soakRows, TARGET_P99_RPO_SECONDS, type SoakResults, type SoakRow, type Verdict } from "./soak-summary";

function value(v: number | null, unit: SoakRow["unit"]): string {
  if (v === null) return "none";
  if (unit === "s") return `${v.toFixed(0)} s`;
  if (unit === "ms") return `${v.toFixed(1)} ms`;
  if (unit === "MiB/s") return `${v.toFixed(1)} MiB/s`;
  if (unit === "MiB") return `${v.toFixed(1)} MiB`;
  if (unit === "points") return v.toFixed(1);
  return `${v.toFixed(1)}%`;
}

const HEADER = ["Measure", "Ours", "Baseline", "Ratio", "Target", "Met"];

export function rowsTable(rows: SoakRow[]): string {
  return markdownTable(
    HEADER,
    rows.map((r) => [
      r.measure,
      value(r.ours, r.unit),
      `${r.baselineName}: ${value(r.baseline, r.unit)}`,
      r.ratio === null ? "-" : r.ratio.toFixed(2),
      r.target ?? "-",
      r.met === undefined ? "-" : r.met ? "yes" : "no",
    ]),
  );
}

const n = (v: number | null, digits = 0) => (v === null ? "-" : v.toFixed(digits));
const dist = (d: Distribution, digits = 0, unit = "") => `p50 ${n(d.p50, digits)}${unit}, p99 ${n(d.p99, digits)}${unit}, max ${n(d.max, digits)}${unit}`;

function minutesTable(minutes: WindowFigures[], cpus: number): string {
  const header = [
    "Minute",
    "RPO p50 (s)",
    "RPO p99 (s)",
    "RPO max (s)",
    "Daemon CPU (% of one core)",
    "Main thread (%)",
    "Machine busy (%)",
    "Machine iowait (%)",
    "Daemon RSS mean (MiB)",
    "Read (MiB/s)",
    "From the device (MiB/s)",
    "Status p50 / p99 (ms)",
  ];
  return markdownTable(
    header,
    minutes.map((m, i) => [
      String(i + 1),
      n(m.rpoSeconds.p50),
      n(m.rpoSeconds.p99),
      n(m.rpoSeconds.max),
      `${m.cpuPercent.toFixed(0)} (${(m.cpuPercent / cpus).toFixed(0)}% of machine)`,
      m.mainThreadPercent.toFixed(0),
      m.machineBusyPercent.toFixed(0),
      m.machineIowaitPercent.toFixed(0),
      (m.rssKiB.mean / 1024).toFixed(0),
      m.readMiBs.toFixed(0),
      m.diskReadMiBs.toFixed(0),
      `${n(m.statusMs.p50, 1)} / ${n(m.statusMs.p99, 1)}`,
    ]),
  );
}

function profileSection(profiles: ThreadProfile[] | null): string[] {
  if (!profiles) return ["Not profiled in this run (BENCH_SOAK_CPU_PROF=1 profiles the daemon with `node --cpu-prof`)."];
  const out: string[] = [];
  for (const p of profiles) {
    const table = (shares: ThreadProfile["categories"]) =>
      markdownTable(
        ["", "ms", "%"],
        shares.map((s) => [s.name, s.ms.toFixed(0), s.percent.toFixed(1)]),
      );
    out.push(
      `### ${p.thread === "main" ? "Main thread" : `Worker threads (${p.files})`}: ${(p.ms / 1000).toFixed(1)} s sampled`,
      "",
      "By kind of work (the first frame from the leaf up that names it):",
      "",
      table(p.categories),
      "",
    );
    out.push("Functions by self time:", "", table(p.topSelf), "", "Our functions by time with their callees:", "", table(p.topInclusive), "");
  }
  return out;
}

const SQL_ROWS = 12;

function sqlSection(trace: SqlTrace | null): string[] {
  if (!trace) return [];
  const windowMs = trace.to - trace.from;
  const total = trace.statements.reduce((sum, st) => sum + st.ms, 0);
  const cell = (sql: string) => "`" + (sql.length > 160 ? sql.slice(0, 157) + "..." : sql).replace(/\|/g, "\\|").replace(/`/g, "'") + "`";
  return [
    `### SQLite statements on the main thread, measured window and stop (${(windowMs / 1000).toFixed(0)} s)`,
    "",
    `Every statement timed by its SQL (placeholder lists folded): ${(total / 1000).toFixed(1)} s in all, ${((100 * total) / windowMs).toFixed(1)}% of the wall time, all of it on the event loop.`,
    "",
    markdownTable(
      ["SQL", "calls", "ms", "µs per call", "% of wall time"],
      trace.statements
        .slice(0, SQL_ROWS)
        .map((st) => [cell(st.sql), String(st.calls), st.ms.toFixed(0), ((1000 * st.ms) / st.calls).toFixed(0), ((100 * st.ms) / windowMs).toFixed(2)]),
    ),
    "",
  ];
}

function markdownReport(results: SoakResults, verdict: Verdict): string {
  const { machine, disks, settings, window, cycles, ticks, baselines, setup, writer, warmup, loadAverage, idle } = results;
  const w = window.figures;
  const layout = Object.entries(disks.layout)
    .map(([kind, blocks]) => `${blocks} ${kind}`)
    .join(", ");
  const totalMiB = (disks.items * disks.bytesEach) / MIB;
  const status = verdict.valid ? (verdict.targetMet ? "target met" : "target missed") : "INVALID RUN: items did not replicate";
  return [
    ...reportHead("Soak benchmark", machine),
    `- Engine: commit ${results.source.commit}${results.source.uncommittedEngineFiles ? ` with ${results.source.uncommittedEngineFiles} uncommitted files under engine/ (work in progress)` : ""}`,
    `- Workload: ${disks.items} protected machines, one ${disks.bytesEach / MIB} MiB disk each (${(totalMiB / 1024).toFixed(1)} GiB in all; blocks of ${disks.blockBytes / 1024} KiB: ${layout}; seed ${disks.seed}), copy frequency ${results.copyFrequencySeconds} s, one daemon, measured for ${(w.seconds / 60).toFixed(1)} minutes`,
    `- Writes: every disk gets ${writer.config.writesPerDisk} writes of ${writer.config.writeBytes / 1024} KiB every ${writer.config.intervalMs / 1000} s, the disks in turn${writer.figures ? ` (${writer.figures.writes} writes done, at most ${writer.figures.maxLagMs.toFixed(0)} ms behind schedule)` : ""}`,
    `- Page cache: warm, not dropped (the images, ${(totalMiB / 1024).toFixed(1)} GiB, and the vault share the machine's memory with everything else)`,
    loadAverageLine(
      [
        ["start", loadAverage.start],
        ["window start", loadAverage.windowStart],
        ["end", loadAverage.end],
      ],
      machine.cpus,
      loadAverage.windowStart + loadAverage.end > 1 && "other processes shared the machine",
    ),
    "",
    `**Result: ${status}.** RPO p50 ${n(w.rpoSeconds.p50)} s, p99 ${n(w.rpoSeconds.p99)} s, max ${n(w.rpoSeconds.max)} s (target p99 <= ${TARGET_P99_RPO_SECONDS} s); ` +
      `${cycles.cycles} points made, ${n(cycles.pointsPerItem.min)} to ${n(cycles.pointsPerItem.max)} per item (at least ${cycles.pointsExpectedPerItem} when every cycle starts on time); ` +
      `daemon CPU ${w.cpuPercent.toFixed(0)}% of one core (${(w.cpuPercent / machine.cpus).toFixed(0)}% of the machine), RSS peak ${(w.rssKiB.peak / 1024).toFixed(0)} MiB, mean ${(w.rssKiB.mean / 1024).toFixed(0)} MiB; ` +
      `status reads p50 ${n(w.statusMs.p50, 1)} ms, p99 ${n(w.statusMs.p99, 1)} ms.`,
    "",
    ...verdict.problems.map((p) => `- **Problem:** ${p}`),
    ...verdict.notes.map((p) => `- Note: ${p}`),
    ...(verdict.problems.length + verdict.notes.length ? [""] : []),
    rowsTable(soakRows(results, verdict)),
    "",
    "Ratio = ours / baseline. For read rates, above 1 is faster; for the rate the copy frequency needs, above 1 means more than `cat` reads on this machine.",
    "",
    "## Minute by minute",
    "",
    minutesTable(window.minutes, machine.cpus),
    "",
    "## Cycles and the scheduler",
    "",
    `- Cycles in the window: ${cycles.cycles}; one item's cycle took ${dist(cycles.cycleMs, 0, " ms")}; it read ${mib(cycles.bytesReadPerCycle)} MiB at ${dist(cycles.cycleReadMiBs, 0, " MiB/s")}.`,
    `- Changed blocks per cycle: ${dist(cycles.blocksChangedPerCycle)}; stored per cycle: ${mib(cycles.bytesStoredPerCycle)} MiB.`,
    `- The scheduler was inside cycles ${cycles.schedulerBusyPercent.toFixed(0)}% of the window (the sum of cycle times over the window; it runs them one after another).`,
    `- Seconds between an item's consecutive points: ${dist(cycles.intervalSeconds, 1)} (the copy frequency is ${results.copyFrequencySeconds} s; the rest is waiting behind other items and the cycle itself).`,
    `- Ticks that replicated: ${ticks.ticks}; items per tick ${dist(ticks.itemsPerTick)}; seconds from one such tick's end to the next's ${dist(ticks.secondsBetween, 1)}.`,
    ...(ticks.failureLines.length ? ["- Failures logged:", "", "```", ...ticks.failureLines, "```"] : []),
    `- Daemon CPU ${w.cpuPercent.toFixed(0)}% of one core: ${w.mainThreadPercent.toFixed(0)}% on the main thread (event loop), ${(w.cpuPercent - w.mainThreadPercent).toFixed(0)}% on other threads (libuv pool doing the reads, block-addressing workers, V8 helpers); ${w.systemPercent.toFixed(0)}% of it in the kernel (system calls: copying pages out of the page cache, I/O).`,
    `- Daemon: ${w.readMiBs.toFixed(0)} MiB/s read through read(2), ${w.diskReadMiBs.toFixed(0)} MiB/s of it from the device (page-cache misses); machine busy ${w.machineBusyPercent.toFixed(0)}%, iowait ${w.machineIowaitPercent.toFixed(0)}% of all CPUs. RSS high-water mark since start ${(w.hwmKiB / 1024).toFixed(0)} MiB.`,
    `- The vault after the run: ${results.vaultAfter.packs} pack files (${mib(results.vaultAfter.packBytes)} MiB; each cycle writes its few changed blocks as a pack of its own), catalog ${mib(results.vaultAfter.catalogBytes)} MiB.`,
    `- Idle daemon (${idle.seconds.toFixed(0)} s, no cycle due, serving the same probe): CPU ${idle.cpuPercent.toFixed(1)}% of one core, RSS ${(idle.rssKiB.mean / 1024).toFixed(0)} MiB, status p50 ${n(idle.statusMs.p50, 1)} ms.`,
    "",
    "## Where the daemon's time went",
    "",
    ...profileSection(results.profile),
    ...sqlSection(results.sqlTrace),
    "",
    "## How it was measured",
    "",
    `- **Setup (not measured).** ${disks.items} images are written with the replication suite's content mix (30% zero blocks, 20% log-like text, 20% repeated records, 30% random bytes, in random places; every byte written, none sparse), ` +
      `${(setup.imagesMs / 1000).toFixed(0)} s. A vault is made in process with one site, one policy and one machine per image (one OS disk, no hooks), and each machine is protected: ` +
      `initial replication to its first point, ${(setup.protect.ms / 1000).toFixed(0)} s, ${mib(setup.protect.bytesStored)} MiB stored. The policy's copy frequency is 15 min during setup so nothing is due yet.`,
    `- **Baselines.** Just before the daemon starts: ${baselines.device ? `\`dd bs=4M iflag=direct\` of the first ${baselines.device.bytes / disks.bytesEach} images (the device alone, no page cache: ${(baselines.device.ms / 1000).toFixed(1)} s for ${mib(baselines.device.bytes)} MiB), ` : "(O_DIRECT was refused: no device baseline) "}\`cat\` of every image to /dev/null, one after another (${(baselines.catMs / 1000).toFixed(1)} s for ${mib(baselines.bytes)} MiB), ` +
      `then every image read and hashed in this process with the engine's block reader (4 MiB reads, one in flight) and xxh64, the least a delta cycle does (${(baselines.readHashMs / 1000).toFixed(1)} s, CPU ${(baselines.readHashCpuMs / 1000).toFixed(1)} s). ` +
      `The page cache cannot be dropped here, so both see whatever of the images the cache still holds, as the daemon does.`,
    `- **Daemon.** \`node dist/cli/main.js serve --vault DIR --port 0\` as a child process; requests carry the admin token it writes. First it is probed idle for ${settings.idleSeconds} s (policy at 15 min: no cycle due) for the idle baselines. ` +
      `Then the policy is switched to 30 s through \`PATCH /v1/policies/soak\`, the writer starts, and the suite waits until every item has a point the daemon made (warm-up: ${warmup.seconds.toFixed(0)} s${warmup.complete ? "" : ", cut short"}); then it measures for ${settings.minutes} minutes.`,
    `- **Writer.** A separate Node process writes ${writer.config.writesPerDisk} × ${writer.config.writeBytes / 1024} KiB of new random bytes at random ${writer.config.writeBytes / 1024} KiB-aligned offsets to each disk every ${writer.config.intervalMs / 1000} s, the disks in turn, evenly spread (seed ${writer.config.seed}), through the page cache without fsync.`,
    `- **Probe.** Every ${PROBE_INTERVAL_MS / 1000} s, one after another: \`GET /v1/status\` (every item's \`rpoSeconds\`, computed by the daemon when asked, whole seconds: each item's RPO is one sample per round), \`GET /v1/items/:item\` for one item in turn, \`GET /healthz\` (no engine work: the event loop's delay). ` +
      `Latency is from sending to the whole body parsed. Then /proc/<daemon pid>/stat (utime + stime of every thread: % of one core; divided by ${machine.cpus} CPUs: % of the machine), /proc/<pid>/status (VmRSS, VmHWM), /proc/<pid>/io (rchar: read through read(2); read_bytes: from the device), /proc/stat (machine busy, iowait).`,
    `- **Points.** After the window the daemon is stopped (SIGTERM; it finishes its tick: ${(results.daemonExit.ms / 1000).toFixed(1)} s) and the catalog is read: every point captured in the window, with its cycle's duration, bytes read and blocks changed. ` +
      `Every item must have made a point in the window, or the run is reported invalid rather than its RPO. The daemon's log gives the ticks.`,
    "",
  ].join("\n");
}

export function writeSoakResults(dir: string, results: SoakResults, verdict: Verdict): Promise<void> {
  return writeResultFiles(dir, "soak", markdownReport(results, verdict), { ...results, verdict, rows: soakRows(results, verdict) });
}
