import type { MachineInfo } from "../common/measure";
import { comparisonsMarkdown, startEndLoadLine, markdownTable, RATIO_NOTE, reportHead, writeResultFiles } from "../common/report";
import type { Comparison } from "../common/summary";

/** One harness operation: its wall time and its steps by kind (create, same, delete, ...). */
export interface HarnessRun {
  action: string;
  ms: number;
  steps: Record<string, number>;
}

/** Everything one deploy run measured, as written to deploy.json. */
export interface DeployResults {
  machine: MachineInfo;
  loadAverage: { start: number; end: number };
  resources: number;
  layout: { sites: number; policies: number; networks: number; mappings: number; items: number; plans: number };
  /** preview, up, up with no changes, destroy: in that order. */
  harness: HarnessRun[];
  /** A preview of the same program declaring the Vault alone: program host and provider start, the run's fixed cost. */
  fixedMs: number;
  /** The same estate by direct API calls on a fresh vault. */
  baseline: { createMs: number; readMs: number; destroyMs: number };
}

const RUN_NAMES = ["preview", "up", "up with no changes", "destroy"];

function runsTable(results: DeployResults): string {
  const header = ["Operation", "Wall time (ms)", "Per resource (ms)", "Steps"];
  const rows = results.harness.map((run, i) => [
    RUN_NAMES[i] ?? run.action,
    run.ms.toFixed(0),
    (run.ms / results.resources).toFixed(1),
    Object.entries(run.steps)
      .map(([op, n]) => `${n} ${op}`)
      .join(", "),
  ]);
  return markdownTable(header, rows);
}

function markdownReport(results: DeployResults, comparisons: Comparison[]): string {
  const { layout, loadAverage, machine } = results;
  return [
    ...reportHead("Deploy benchmark", machine),
    `- Program: ${results.resources} resources — 1 vault, ${layout.sites} sites, ${layout.policies} policies, ${layout.networks} networks, ${layout.mappings} network mappings, ${layout.items} protected items (one 1 MiB sparse disk each, 2 data blocks), ${layout.plans} recovery plans`,
    "- Ours: the generated program through the deployment harness (real `cmd/run` and dynamic-provider processes) against `lifeboat serve`; each run is one wall time, program start to state saved",
    "- Baseline: the same specs sent straight to a fresh daemon with EngineClient, in the same dependency order, each step's calls at once",
    `- Fixed cost of a harness run (a preview of the Vault alone: program host, provider process, one check): ${results.fixedMs.toFixed(0)} ms`,
    "- The harness deletes one resource at a time (the Pulumi engine deletes independent ones in parallel); creates and updates of independent resources run at once",
    startEndLoadLine(loadAverage, machine.cpus),
    "",
    comparisonsMarkdown(comparisons),
    "",
    RATIO_NOTE,
    "",
    "## Harness runs",
    "",
    runsTable(results),
    "",
  ].join("\n");
}

/** deploy.md for people, deploy.json with the raw figures for tools. */
export function writeDeployResults(dir: string, results: DeployResults, comparisons: Comparison[]): Promise<void> {
  return writeResultFiles(dir, "deploy", markdownReport(results, comparisons), { ...results, comparisons });
}
