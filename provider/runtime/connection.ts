// Which engine a hook talks to: `lifeboat:endpoint`/`lifeboat:token` (stack config, given to
// configure), else LIFEBOAT_ENDPOINT/LIFEBOAT_TOKEN, else the embedded default: the daemon of the
// resource's vault directory, started detached when none runs (its URL in daemon.json, its admin
// token in admin.token, both beside the vault), allowing the directories of `lifeboat:allowedPaths`.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { EngineClient } from "../../client/engine-client";
import { requestJson } from "../../client/http";
import { processExists } from "../../engine/process/owner";
import { exists } from "../../engine/io/exists";
import { LOCAL_TOKEN_FILE } from "../../engine/server/daemon-files";
import { launchDaemon, readDaemonRecord } from "../../engine/server/launch";
import { defaultAllowedPaths } from "../../schema/paths";

export interface ProviderConfig {
  endpoint?: string;
  token?: string;
  /** `lifeboat:allowedPaths` as stack config holds it: a JSON list (`--path 'lifeboat:allowedPaths[0]'`), or one directory. */
  allowedPaths?: string;
}

export interface Connection {
  engine: EngineClient;
  endpoint: string;
}

let configured: ProviderConfig = {};
let allowed: string[] | undefined;

export function configure(config: ProviderConfig): void {
  allowed = parseAllowedPaths(config.allowedPaths);
  configured = config;
}

/** How a user allows a directory for the embedded daemon: said by every refusal of a path. */
export const ALLOW_PATH_HINT =
  "run: pulumi config set --path 'lifeboat:allowedPaths[0]' DIR (the next index for each further one; the embedded daemon is started with --allow-path for each)";

function parseAllowedPaths(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw === "") return undefined;
  let value: unknown = raw;
  if (raw.trimStart().startsWith("[")) {
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
  }
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || !list.length || !list.every((d) => typeof d === "string" && d !== "")) {
    throw new Error(`lifeboat:allowedPaths must be a list of directories; to set it, ${ALLOW_PATH_HINT}`);
  }
  // Relative directories are relative to the project directory, where the provider runs.
  return list.map((d: string) => path.resolve(d));
}

/** The directories the vault's embedded daemon allows: the one holding the vault, and those of `lifeboat:allowedPaths`. */
export const allowedPathsOf = (vault: string): string[] => [...new Set([...defaultAllowedPaths(vault), ...(allowed ?? [])])];

const given = (...values: Array<string | undefined>) => values.find((v) => v !== undefined && v !== "");

/** The compiled CLI of this package (the runtime runs from dist/provider/runtime). */
const CLI = path.resolve(__dirname, "..", "..", "cli", "main.js");
const DAEMON_LOG = "daemon.log";
const DAEMON_START_MS = 30_000;
/** Vault marker file (engine/vault.ts): a directory holding it is a vault. */
const VAULT_MARKER = "vault.json";

const readToken = (vault: string) =>
  fs.readFile(path.join(vault, LOCAL_TOKEN_FILE), "utf8").then(
    (t) => t.trim(),
    () => undefined,
  );

const configuredEndpoint = () => given(configured.endpoint, process.env.LIFEBOAT_ENDPOINT);

/** No endpoint is configured: each vault's own daemon serves it. */
export const usesEmbeddedDefault = () => configuredEndpoint() === undefined;

/** The engine serving the vault; with the embedded default, its daemon is started if none runs. */
export async function connect(vault: string): Promise<Connection> {
  return (await connection(path.resolve(vault), true))!;
}

/**
 * The engine serving the vault if it answers now: checks (also in a preview) start no processes, and
 * an engine that is down only means the engine's own checks are left for create.
 */
export function connectIfRunning(vault: string): Promise<Connection | undefined> {
  return connection(path.resolve(vault), false);
}

export const isVault = (dir: string) => exists(path.join(dir, VAULT_MARKER));

async function connection(dir: string, startDaemon: boolean): Promise<Connection | undefined> {
  const endpoint = configuredEndpoint();
  if (endpoint) {
    const token = given(configured.token, process.env.LIFEBOAT_TOKEN) ?? (await readToken(dir));
    if (!token)
      throw new Error(`a token is needed for the engine at ${endpoint}: run 'pulumi config set --secret lifeboat:token TOKEN' (or set LIFEBOAT_TOKEN)`);
    if (!startDaemon && !(await answers(endpoint))) return undefined;
    return { engine: new EngineClient(endpoint, token), endpoint };
  }
  if (!startDaemon) {
    // A daemon this provider started with other allowed directories is started again at the first change.
    const url = (await startedWithOtherPaths(dir)) ? undefined : await liveDaemon(dir);
    const token = url && (await readToken(dir));
    return url && token ? { engine: new EngineClient(url, token), endpoint: url } : undefined;
  }
  const daemon = await embeddedDaemon(dir);
  return { engine: new EngineClient(daemon.url, daemon.token), endpoint: daemon.url };
}

const starting = new Map<string, Promise<{ url: string; token: string }>>();

/** The vault's own daemon; hooks running side by side share one start. */
function embeddedDaemon(dir: string): Promise<{ url: string; token: string }> {
  let start = starting.get(dir);
  if (!start) {
    start = startDaemon(dir).finally(() => starting.delete(dir));
    starting.set(dir, start);
  }
  return start;
}

async function startDaemon(dir: string): Promise<{ url: string; token: string }> {
  if (await startedWithOtherPaths(dir)) await stopEmbeddedDaemon(dir);
  let url = await liveDaemon(dir);
  if (!url) {
    if (!(await isVault(dir))) await promisify(execFile)(process.execPath, [CLI, "vault", "init", dir, "--json"]);
    url = await spawnDaemon(dir);
  }
  const token = await readToken(dir);
  if (!token) throw new Error(`the daemon of ${dir} wrote no admin token (${path.join(dir, LOCAL_TOKEN_FILE)})`);
  return { url, token };
}

/** The URL of a daemon that serves the vault now, if its record is not stale. */
async function liveDaemon(dir: string): Promise<string | undefined> {
  const record = await readDaemonRecord(dir);
  if (!record || !processExists(record.pid)) return undefined;
  return (await answers(record.url)) ? record.url : undefined;
}

/**
 * URLs whose daemon has answered in this provider process: every check asks whether the engine is up,
 * and one health check per deployment is enough (a daemon that goes away later fails the call itself,
 * which the check also handles). A daemon that did not answer is asked again.
 */
const answered = new Set<string>();

/** The daemon at the URL is up (its health check needs no token). */
async function answers(url: string): Promise<boolean> {
  if (answered.has(url)) return true;
  const up = await requestJson(url, undefined, "GET", "/healthz").then(
    () => true,
    () => false,
  );
  if (up) answered.add(url);
  return up;
}

/**
 * The daemon this provider started for the vault, `{pid, allowedPaths}` (a bare pid from before): only
 * that one is stopped with the Vault, or started again when the stack config allows other directories.
 */
const STARTED_FILE = "daemon.started-by-provider";

interface StartedRecord {
  pid: number;
  allowedPaths?: string[];
}

async function readStarted(dir: string): Promise<StartedRecord | undefined> {
  const text = await fs.readFile(path.join(dir, STARTED_FILE), "utf8").catch(() => "");
  if (/^\s*\d+\s*$/.test(text)) return { pid: Number(text) };
  try {
    const record = JSON.parse(text) as StartedRecord;
    return Number.isInteger(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The vault's daemon runs, was started by this provider, and allows other directories than the config says. */
async function startedWithOtherPaths(dir: string): Promise<boolean> {
  const started = await readStarted(dir);
  const record = await readDaemonRecord(dir);
  if (!started || record?.pid !== started.pid || !processExists(started.pid)) return false;
  return JSON.stringify(started.allowedPaths ?? defaultAllowedPaths(dir)) !== JSON.stringify(allowedPathsOf(dir));
}

/** `lifeboat serve` for the vault on a free loopback port, detached: it outlives the deployment. */
async function spawnDaemon(dir: string): Promise<string> {
  const allowedPaths = allowedPathsOf(dir);
  const recordStart = (pid: number) =>
    fs.writeFile(path.join(dir, STARTED_FILE), JSON.stringify({ pid, allowedPaths } satisfies Partial<StartedRecord>), { mode: 0o600 });
  const options = { vault: dir, logFile: path.join(dir, DAEMON_LOG), appendLog: true, allowedPaths, detached: true, cwd: dir, cli: CLI };
  return (await launchDaemon({ ...options, startTimeoutMs: DAEMON_START_MS, onSpawn: recordStart })).url;
}

/**
 * Stops the vault's daemon if this provider started it (the embedded default), when the stack lets go
 * of the vault. A daemon someone started by hand is left running.
 */
export async function stopEmbeddedDaemon(vault: string): Promise<void> {
  const dir = path.resolve(vault);
  const started = (await readStarted(dir))?.pid;
  const record = await readDaemonRecord(dir);
  if (started && record?.pid === started && processExists(started)) {
    process.kill(started, "SIGTERM");
    const deadline = Date.now() + DAEMON_START_MS;
    while (processExists(started) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  await fs.rm(path.join(dir, STARTED_FILE), { force: true });
}
