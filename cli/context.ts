import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { Engine, EngineError } from "../engine";
import { EngineClient, type EngineApi } from "../client/engine-client";
import { LOCAL_TOKEN_FILE } from "../engine/server/daemon-files";
import { whenJobStarts } from "../engine/jobs/job-started";
import { ProgressView } from "./progress";
import type { KeyFlags } from "../engine/keys/kek-source";

export interface GlobalOptions {
  vault: string;
  json?: boolean;
  endpoint?: string;
  token?: string;
  keyFile?: string;
  keyCommand?: string;
}

/** The key flags (--key-file, --key-command) for opening or creating a vault; the environment fills the rest. */
export function keyFlags(command: Command): KeyFlags {
  const { keyFile, keyCommand } = command.optsWithGlobals<GlobalOptions>();
  return { keyFile, keyCommand };
}

/** The vault a command acts on: --vault, else $LIFEBOAT_VAULT, else ./.lifeboat. */
export function vaultDir(command: Command): string {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return path.resolve(opts.vault ?? process.env.LIFEBOAT_VAULT ?? ".lifeboat");
}

export function wantsJson(command: Command): boolean {
  return Boolean(command.optsWithGlobals<GlobalOptions>().json);
}

/**
 * Run the body against the engine: through a daemon's API with --endpoint (or $LIFEBOAT_ENDPOINT), else
 * on the vault directly. The token is --token, $LIFEBOAT_TOKEN, or the admin token a local daemon wrote.
 */
export async function withEngine<T>(command: Command, body: (engine: EngineApi) => Promise<T>): Promise<T> {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const endpoint = opts.endpoint ?? process.env.LIFEBOAT_ENDPOINT;
  const progress = opts.json ? undefined : new ProgressView();
  try {
    if (!endpoint) return await withLocalEngine(command, (engine) => followJobs(engine, () => body(engine), progress));
    const token = opts.token ?? process.env.LIFEBOAT_TOKEN ?? localToken(command);
    if (!token) throw new EngineError("Unauthorized", `a token is needed for ${endpoint}: give --token or set LIFEBOAT_TOKEN`, { field: "token" });
    return await body(new EngineClient(endpoint, token, { onJob: (job) => progress?.update(job) }));
  } finally {
    progress?.done();
  }
}

const PROGRESS_POLL_MS = 200;

/** While a local operation runs, show the job it started as it moves along. */
async function followJobs<T>(engine: Engine, operation: () => Promise<T>, progress: ProgressView | undefined): Promise<T> {
  if (!progress) return operation();
  const { started, done } = whenJobStarts(operation);
  let finished = false;
  void started.then(async (id) => {
    while (id && !finished) {
      const job = await engine.job(id).catch(() => undefined);
      if (job && !finished) progress.update(job);
      await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
    }
  });
  try {
    return await done;
  } finally {
    finished = true;
  }
}

function localToken(command: Command): string | undefined {
  try {
    return readFileSync(path.join(vaultDir(command), LOCAL_TOKEN_FILE), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Open the vault itself (serve, and what only the vault's host can do), run the body, always close. */
export async function withLocalEngine<T>(command: Command, body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open(vaultDir(command), { key: keyFlags(command) });
  if (engine.vault.encryption.cipher === "none")
    process.stderr.write(`warning: vault ${engine.vault.dir} predates encryption at rest: its blocks and manifests are stored unencrypted\n`);
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

/** Commander option parser for numbers: a non-number is passed on as text so validation names the field. */
export const numberArg = (value: string): number | string => (value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value);
