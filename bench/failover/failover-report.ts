import type { FailbackRun, PlanRun } from "./failover";
import { PLANS } from "./failover-protocol";
import { PLAN_MAX_RATIO, type FailoverResults } from "./failover-summary";
import { MIB } from "../common/measure";
import { cacheLine, comparisonsMarkdown, startEndLoadLine, markdownTable, mib, RATIO_NOTE, reportHead, rssMiB, writeResultFiles } from "../common/report";
import type { Comparison } from "../common/summary";

const ms = (value: number) => value.toFixed(0);
const groupTimes = (run: PlanRun) => run.groupMs.map(ms).join(" + ");

/** Each run's raw figures, so the fastest can be checked against the others. */
function planRunsTable({ plan }: FailoverResults): string {
  const header = [
    "Run",
    "1 group in process (ms)",
    "1 group CPU (ms)",
    "1 group whole command (ms)",
    "2 groups in process (ms)",
    "2 groups whole command (ms)",
    "2 groups, each (ms)",
    "cp + sync (ms)",
    "Peak RSS, 1 group (MiB)",
    "Peak RSS, 2 groups (MiB)",
  ];
  const rows = plan.rounds.map(({ ours: { oneGroup, twoGroups }, cpMs }, i) => [
    String(i + 1),
    ms(oneGroup.ms),
    ms(oneGroup.cpuMs),
    ms(oneGroup.wallMs),
    ms(twoGroups.ms),
    ms(twoGroups.wallMs),
    groupTimes(twoGroups),
    ms(cpMs),
    rssMiB(oneGroup.maxRssKiB),
    rssMiB(twoGroups.maxRssKiB),
  ]);
  return markdownTable(header, rows);
}

function failbackRunsTable({ failback }: FailoverResults): string {
  const header = [
    "Run",
    "Mode",
    "Blocks changed at the recovery site",
    "Written while running (MiB)",
    "Written after the switch (MiB)",
    "Written in all (MiB)",
    "Disk (MiB)",
    "In process (ms)",
    "CPU (ms)",
    "Whole command (ms)",
    "Setup (ms)",
    "Peak RSS (MiB)",
  ];
  const row = (run: FailbackRun, i: number, mode: string) => [
    String(i + 1),
    mode,
    String(run.changedBlocks),
    mib(run.preSyncBytes),
    mib(run.finalBytes),
    mib(run.bytesTransferred),
    mib(run.diskBytes),
    ms(run.ms),
    ms(run.cpuMs),
    ms(run.wallMs),
    ms(run.setupMs),
    rssMiB(run.maxRssKiB),
  ];
  return markdownTable(header, [...failback.delta.map((r, i) => row(r, i, "by delta")), ...failback.full.map((r, i) => row(r, i, "full download"))]);
}

function markdownReport(results: FailoverResults, comparisons: Comparison[]): string {
  const { machine, disks, plan, runs, loadAverage } = results;
  const layout = Object.entries(disks.layout)
    .map(([kind, blocks]) => `${blocks} ${kind}`)
    .join(", ");
  const { protect } = plan;
  return [
    ...reportHead("Failover benchmark", machine),
    `- Disks: ${disks.machines} machines, one ${disks.bytesEach / MIB} MiB disk each, in ${disks.blockBytes / 1024} KiB blocks (all disks together: ${layout}; seed ${disks.seed})`,
    cacheLine(machine.cache),
    startEndLoadLine(loadAverage, machine.cpus, "other processes shared the machine: times vary with them; CPU times vary less", 0.5),
    `- Times: fastest of ${runs} runs; peak RSS: largest of them; bytes: mean; CPU: the child process's user + system time, every thread`,
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## How it was measured",
    "",
    `- **Recovery plan.** Every machine is protected once into one vault (setup: ${ms(protect.ms)} ms, ${mib(protect.bytesStored)} MiB stored). ` +
      `Each run starts from a byte-identical copy of that vault (\`cp -a\`, made while no process has it open) and an empty recovery site, drops the page cache, ` +
      `and times \`Engine.runPlan(plan, { type: "unplanned", point: "latest-processed" })\` from call to return in a fresh Node process: ` +
      `every disk materialized (sparse, each block's SHA-256 verified, synced) and its machine recorded; compute driver \`none\`, so nothing boots. ` +
      `"Whole command" adds Node's start-up and opening the vault. Plans: '${PLANS.oneGroup}' (all machines in one group, failed over in parallel) ` +
      `and '${PLANS.twoGroups}' (two groups, one after the other). The first run of each is compared byte for byte with the source images.`,
    `- **cp baseline.** One \`cp --sparse=auto --reflink=never\` of all source images into an empty directory, then \`sync\` of the copies. ` +
      `The images have no holes, so cp writes every byte; the recovered disks are written sparse. Target: plan time (in process) ≤ ${PLAN_MAX_RATIO} × cp.`,
    `- **Failback.** Each run protects its own copy of the first image, fails it over, commits and reprotects it, then changes 1% of the recovered disk's ` +
      `blocks (the same blocks and bytes every run) and times \`Engine.failback(name, { location: "original" })\`, or with \`fullDownload: true\`. ` +
      `Bytes are the job's \`bytesTransferred\` (written to the primary disk); afterwards the primary disk must equal the recovered one.`,
    "",
    "## Recovery plan runs",
    "",
    planRunsTable(results),
    "",
    "## Failback runs",
    "",
    failbackRunsTable(results),
    "",
  ].join("\n");
}

export function writeFailoverResults(dir: string, results: FailoverResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "failover", markdownReport(results, comparisons), { ...results, comparisons });
}
