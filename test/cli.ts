import { strict as assert } from "node:assert";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

/** The compiled CLI (built by `npm test` before mocha runs), as users run it. */
export const CLI = path.resolve(__dirname, "..", "dist", "cli", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function lifeboat(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export function spawnLifeboat(args: string[], options: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: options.cwd });
}

/**
 * The CLI on one vault: `run` answers whatever happened; `ok` asserts exit 0 (showing stderr otherwise).
 * `vault` is read at each call, so a suite may set its directory in `before`.
 */
export function vaultCli(vault: () => string) {
  const run = async (...args: string[]) => {
    const result = await lifeboat(["--vault", vault(), ...args]);
    return { ...result, json: () => JSON.parse(result.stdout) };
  };
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    assert.equal(result.code, 0, `lifeboat ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  return { run, ok };
}
