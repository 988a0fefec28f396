// Runs a Pulumi Node.js program exactly as the CLI's language host does: `node cmd/run` with the
// monitor and engine addresses as flags and the stack config in PULUMI_CONFIG.
import { spawn } from "node:child_process";
import type { Project } from "./project";
import { sdkEntry } from "./pulumi-sdk";

export interface ProgramRun {
  project: Project;
  stack: string;
  monitorAddress: string;
  config: Record<string, string>;
  dryRun: boolean;
}

export interface ProgramExit {
  code: number;
  /** stdout and stderr of the program (its console output; SDK errors go through Engine.Log). */
  output: string;
}

export function runProgram(run: ProgramRun): Promise<ProgramExit> {
  const { project } = run;
  const args = [
    sdkEntry(project.dir, "cmd/run"),
    `--monitor=${run.monitorAddress}`,
    `--engine=${run.monitorAddress}`,
    `--project=${project.name}`,
    `--stack=${run.stack}`,
    `--pwd=${project.dir}`,
    `--root-directory=${project.dir}`,
    ...(run.dryRun ? ["--dry-run"] : []),
    project.main,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(run.config),
    PULUMI_CONFIG_SECRET_KEYS: "[]",
    // The language host turns the `typescript` runtime option (default on) into this variable.
    PULUMI_NODEJS_TYPESCRIPT: String(project.typescript),
  };
  // The harness may itself run under ts-node (mocha); the program must not inherit that hook.
  delete env.TS_NODE_TRANSPILE_ONLY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: project.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    child.stdout!.setEncoding("utf8").on("data", (c: string) => output.push(c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => output.push(c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, output: output.join("") }));
  });
}
