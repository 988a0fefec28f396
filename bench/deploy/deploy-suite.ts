/**
 * Deploy suite: a generated Pulumi program of DEPLOY_RESOURCES resources run through the deployment
 * harness (the real `cmd/run` program host and dynamic-provider process) against a real daemon —
 * preview, up, an up with nothing to change, destroy — against the same specs sent straight to
 * another daemon with EngineClient (the named baseline: what the provider's hooks cost beyond the
 * engine's own work). Writes deploy.{md,json}. BENCH_DEPLOY_RESOURCES sets the size (default 200).
 */
import * as os from "node:os";
import * as path from "node:path";
import { EngineClient } from "../../client/engine-client";
import { Engine } from "../../engine";
import { deploy, type Action, type DeployResult } from "../../test/harness/deploy";
import { makeDisks, makeLayout, resourceCount, vaultOnly, writeLayout, writeProgram, type DeployLayout } from "./deploy-layout";
import { writeDeployResults, type DeployResults, type HarnessRun } from "./deploy-report";
import { describeMachine, PageCache, timed } from "../common/measure";
import { Random } from "../common/random";
import { textTable } from "../common/report";
import { Daemon } from "../../engine/server/launch";
import { compare, type Comparison } from "../common/summary";
import { SEED, type SuiteContext } from "../common/suite";

export const DIRECT_BASELINE = "EngineClient direct calls";

function resourcesFromEnv(): number {
  const text = process.env.BENCH_DEPLOY_RESOURCES ?? "200";
  const n = Number(text);
  if (!Number.isInteger(n) || n < 25) throw new Error(`BENCH_DEPLOY_RESOURCES must be a whole number of at least 25, got '${text}'`);
  return n;
}

/** A fresh vault with `lifeboat serve` on it. */
async function startDaemon(vault: string, logFile: string): Promise<{ daemon: Daemon; client: EngineClient }> {
  const { engine } = await Engine.init(vault);
  await engine.close();
  const daemon = await Daemon.start({ vault, logFile });
  return { daemon, client: new EngineClient(daemon.url, daemon.token, { pollMs: 50 }) };
}

/** The same estate through the API, in the program's dependency order, each step's calls at once (as the engine steps independent resources). */
async function direct(client: EngineClient, layout: DeployLayout): Promise<{ createMs: number; readMs: number; destroyMs: number }> {
  const all = <T>(specs: T[], call: (spec: T) => Promise<unknown>) => Promise.all(specs.map(call));
  const mustSucceed = (what: string) => (job: { state: string; error?: { message?: string } | null }) => {
    if (job.state !== "Succeeded") throw new Error(`${what}: ${job.state} ${job.error?.message ?? ""}`);
  };
  const create = await timed(async () => {
    await client.vaultInfo();
    await Promise.all([all(layout.sites, client.addSite), all(layout.policies, client.addPolicy)]);
    await all(layout.networks, client.addNetwork);
    await all(layout.mappings, client.addNetworkMapping);
    await all(layout.items, (item) => client.protect(item).then(mustSucceed(`protect ${item.name}`)));
    await all(layout.plans, client.addPlan);
  });
  // What an up with nothing to change needs at the least: one read of each resource.
  const read = await timed(async () => {
    await Promise.all([client.vaultInfo(), client.listSites(), client.listPolicies(), client.listNetworks(), client.listNetworkMappings()]);
    await all(layout.items, (item) => client.item(item.name));
    await all(layout.plans, (plan) => client.getPlan(plan.name));
  });
  const destroy = await timed(async () => {
    await all(layout.plans, (plan) => client.removePlan(plan.name));
    await all(layout.items, (item) => client.unprotect(item.name).then(mustSucceed(`unprotect ${item.name}`)));
    await all(layout.mappings, (m) => client.removeNetworkMapping(m.source));
    await all(layout.networks, (n) => client.removeNetwork(n.name));
    await Promise.all([all(layout.policies, (p) => client.removePolicy(p.name)), all(layout.sites, (s) => client.removeSite(s.name))]);
  });
  return { createMs: create.ms, readMs: read.ms, destroyMs: destroy.ms };
}

/** One harness operation, timed; any failure stops the suite with the harness's own printout. */
async function harnessRun(action: Action, options: { dir: string; stateDir: string; config: Record<string, string> }): Promise<HarnessRun> {
  const lines: string[] = [];
  const { ms, value } = await timed(() => deploy(action, { ...options, stack: "bench", out: (line) => lines.push(line) }));
  if (!value.ok) throw new Error(`harness ${action} failed:\n${lines.join("\n")}`);
  return { action, ms, steps: countSteps(value) };
}

function countSteps(result: DeployResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const step of result.steps) if (step.type.startsWith("pulumi-nodejs:dynamic")) counts[step.op] = (counts[step.op] ?? 0) + 1;
  return counts;
}

function comparisons(results: DeployResults): Comparison[] {
  const n = results.resources;
  const [preview, up, noop, destroy] = results.harness;
  const { baseline } = results;
  return [
    compare(`preview, ${n} resources`, "ms", preview.ms, `${DIRECT_BASELINE} (read each)`, baseline.readMs),
    compare(`up, ${n} resources`, "ms", up.ms, `${DIRECT_BASELINE} (create)`, baseline.createMs),
    compare("up, per resource", "ms", up.ms / n, `${DIRECT_BASELINE} (create)`, baseline.createMs / n),
    compare(`up with no changes, ${n} resources`, "ms", noop.ms, `${DIRECT_BASELINE} (read each)`, baseline.readMs),
    compare(`destroy, ${n} resources`, "ms", destroy.ms, `${DIRECT_BASELINE} (delete)`, baseline.destroyMs),
  ];
}

export async function deploySuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const total = resourcesFromEnv();
  const loadAtStart = os.loadavg()[0];
  const layout = makeLayout(workDir, total);
  if (resourceCount(layout) !== total) throw new Error(`layout has ${resourceCount(layout)} resources, wanted ${total}`);
  log(`deploy: ${total} resources (${layout.items.length} protected items); making disks and the program`);
  await makeDisks(layout, new Random(SEED));
  const { programDir, layoutFile } = await writeProgram(workDir, layout);

  const ours = await startDaemon(layout.vault, path.join(workDir, "daemon.log"));
  const harness: HarnessRun[] = [];
  let fixed: HarnessRun | undefined;
  try {
    const options = {
      dir: programDir,
      stateDir: path.join(workDir, "state"),
      config: { "lifeboat:endpoint": ours.daemon.url, "lifeboat:token": ours.daemon.token, layout: layoutFile },
    };
    for (const action of ["preview", "up", "up", "destroy"] as const) {
      log(`harness ${action}`);
      harness.push(await harnessRun(action, options));
    }
    log("harness preview of the Vault alone (the fixed cost of a run)");
    const emptyLayout = await writeLayout(path.join(workDir, "layout-vault-only.json"), vaultOnly(layout));
    fixed = await harnessRun("preview", { ...options, stateDir: path.join(workDir, "state-vault-only"), config: { ...options.config, layout: emptyLayout } });
  } finally {
    await ours.daemon.stop(30_000);
  }

  log("baseline: the same specs through EngineClient on a fresh vault");
  const theirs = await startDaemon(path.join(workDir, "baseline-vault"), path.join(workDir, "baseline-daemon.log"));
  let baseline: Awaited<ReturnType<typeof direct>>;
  try {
    baseline = await direct(theirs.client, { ...layout, vault: path.join(workDir, "baseline-vault") });
  } finally {
    await theirs.daemon.stop(30_000);
  }

  const results: DeployResults = {
    // Nothing here reads disks that a dropped page cache would slow: the cache is left as it is.
    machine: { ...describeMachine(new PageCache()), cache: "warm cache" },
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    resources: total,
    layout: {
      sites: layout.sites.length,
      policies: layout.policies.length,
      networks: layout.networks.length,
      mappings: layout.mappings.length,
      items: layout.items.length,
      plans: layout.plans.length,
    },
    harness,
    fixedMs: fixed!.ms,
    baseline,
  };
  const table = comparisons(results);
  console.log(`\nDeploy benchmark\n\n${textTable(table)}`);
  await writeDeployResults(resultsDir, results, table);
  log(`results written to ${path.relative(process.cwd(), resultsDir) || resultsDir}`);
}
