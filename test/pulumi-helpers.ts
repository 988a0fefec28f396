// What the tests of Pulumi programs share: running a program directory through the deployment harness
// with its printout kept, and reading steps and outputs back from the result.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineClient } from "../client/engine-client";
import { DAEMON_FILE, type DaemonRecord } from "../engine/server/daemon-files";
import { deploy, type Action, type DeployResult } from "./harness/deploy";
import type { Op, StepRecord } from "./harness/report";
import { waitFor } from "./wait";

export const PULUMI_FIXTURES = path.join(__dirname, "fixtures", "pulumi");

export type Run = DeployResult & { output: string };

type Config = Record<string, string>;

/**
 * preview/up/refresh/destroy of one program directory and stack, with base config and per-run additions;
 * the base may be a function, read at each run (a daemon started after the suite was declared).
 */
export function harness(dir: string, stateDir: string, base: Config | (() => Config)) {
  return async (action: Action, config: Config = {}, stack = "dev"): Promise<Run> => {
    const lines: string[] = [];
    const baseConfig = typeof base === "function" ? base() : base;
    const result = await deploy(action, { dir, stack, stateDir, config: { ...baseConfig, ...config }, out: (l) => lines.push(l) });
    return { ...result, output: lines.join("\n") };
  };
}

export function ok(result: Run): Run {
  assert.ok(result.ok, `harness run failed:\n${result.output}`);
  return result;
}

/** name → op of the Lifeboat resources. */
export function ops(result: DeployResult): Record<string, Op> {
  return Object.fromEntries(result.steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic/lifeboat:")).map((s) => [s.name, s.op]));
}

export function stepOf(result: DeployResult, name: string): StepRecord {
  const step = result.steps.find((s) => s.name === name);
  assert.ok(step, `${name} has a step`);
  return step;
}

export function outputsOf(result: DeployResult, name: string): Record<string, unknown> {
  const res = result.state.resources.find((r) => r.name === name);
  assert.ok(res, `${name} is in the state`);
  return res.outputs;
}

/** What the engine holds: tests that must change nothing compare this before and after. */
export const inventoryOf = async (engine: EngineClient) => ({
  sites: await engine.listSites(),
  policies: await engine.listPolicies(),
  networks: await engine.listNetworks(),
  mappings: await engine.listNetworkMappings(),
  plans: await engine.listPlans(),
  items: (await engine.status()).items.map((i) => ({ name: i.name, policy: i.policy, disks: i.disks.map((d) => d.path) })),
});

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The record a running daemon keeps beside its vault (its pid and URL), if any. */
export const daemonRecord = (vault: string): DaemonRecord | undefined => {
  try {
    return JSON.parse(fs.readFileSync(path.join(vault, DAEMON_FILE), "utf8")) as DaemonRecord;
  } catch {
    return undefined;
  }
};

/** The pid of the daemon serving the vault now (the provider's embedded default starts one), if it runs. */
export const embeddedDaemonPid = (vault: string): number | undefined => {
  const pid = daemonRecord(vault)?.pid;
  return pid !== undefined && alive(pid) ? pid : undefined;
};

export async function stopProcess(pid: number): Promise<void> {
  if (alive(pid)) process.kill(pid, "SIGTERM");
  await waitFor(`process ${pid} to end`, () => (alive(pid) ? undefined : true));
}
/**
 * The embedded default for a suite: no endpoint in the environment (restored after), and the daemons
 * the provider started stopped at the end.
 */
export function withoutEndpoint(): { started(pid: number): void } {
  const saved = { LIFEBOAT_ENDPOINT: process.env.LIFEBOAT_ENDPOINT, LIFEBOAT_TOKEN: process.env.LIFEBOAT_TOKEN };
  const pids = new Set<number>();
  before(() => {
    delete process.env.LIFEBOAT_ENDPOINT;
    delete process.env.LIFEBOAT_TOKEN;
  });
  after(async () => {
    Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    for (const pid of pids) await stopProcess(pid);
  });
  return { started: (pid) => void pids.add(pid) };
}
