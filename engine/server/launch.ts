// Starting `lifeboat serve` for a vault, as a user runs it, on a free loopback port: the one launcher of
// the provider's embedded daemon (detached: it outlives the deployment), the benchmarks and the tests
// (attached: a Daemon handle that stops it).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { DAEMON_FILE, LOCAL_TOKEN_FILE, type DaemonRecord } from "./daemon-files";

/** The compiled CLI beside this build (dist/engine/server -> dist/cli). */
const CLI = path.resolve(__dirname, "..", "..", "cli", "main.js");
/** How long `serve` may take to open the vault and listen (a loaded 2-core machine is slow to start node). */
const START_TIMEOUT_MS = 60_000;
/** A read the daemon has not answered by then counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface LaunchOptions {
  vault: string;
  /** The daemon's stdout and stderr go here: one line per scheduler tick that did work. */
  logFile: string;
  /** Append to the log (the provider's daemon.log beside the vault) rather than start it afresh. */
  appendLog?: boolean;
  /** `--allow-path` for each (default: the daemon's own, the directory holding the vault). */
  allowedPaths?: string[];
  /** Run detached in its own process group, not waited for by this process: it outlives it. */
  detached?: boolean;
  cwd?: string;
  /** Arguments for node before the CLI (`--cpu-prof`, `--require`), and environment added to ours. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** The compiled CLI to run (default: the one beside this build). */
  cli?: string;
  startTimeoutMs?: number;
  /** Called once the process exists, before it listens (the provider records that it started it). */
  onSpawn?: (pid: number) => Promise<void>;
}

export interface DaemonEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedDaemon {
  child: ChildProcess;
  url: string;
  /** Resolves when the process ends (listened for from the start, so an early end is not missed). */
  exit: Promise<DaemonEnd>;
}

/**
 * Starts `lifeboat serve --port 0` and resolves once it listens: when the vault's daemon record names
 * this process (the record is written after the admin token, so both are there). A daemon that exits
 * first, or is not listening in time (then it is killed), fails with the end of its log.
 */
export async function launchDaemon(options: LaunchOptions): Promise<LaunchedDaemon> {
  const log = openSync(options.logFile, options.appendLog ? "a" : "w", 0o600);
  const allow = (options.allowedPaths ?? []).flatMap((dir) => ["--allow-path", dir]);
  const args = [...(options.nodeArgs ?? []), options.cli ?? CLI, "--vault", options.vault, "serve", "--port", "0", ...allow];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    detached: options.detached,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...options.env },
  });
  closeSync(log);
  if (options.detached) child.unref();
  let exited: number | string | null = null;
  const exit = new Promise<DaemonEnd>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  void exit.then(({ code, signal }) => (exited = signal ?? code ?? 1));
  await options.onSpawn?.(child.pid!);
  const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
  while (Date.now() < deadline && exited === null) {
    const record = await readDaemonRecord(options.vault);
    if (record && record.pid === child.pid) return { child, url: record.url, exit };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (exited === null) child.kill("SIGKILL");
  const tail = (await fs.readFile(options.logFile, "utf8").catch(() => "")).split("\n").slice(-5).join("\n");
  throw new Error(
    `could not start the engine daemon for ${options.vault}${exited !== null ? ` (it exited with ${exited})` : " in time"}; see ${options.logFile}:\n${tail}`,
  );
}

/** `{url, pid}` of the daemon serving the vault, as it wrote it; undefined when there is none. */
export async function readDaemonRecord(vault: string): Promise<DaemonRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(vault, DAEMON_FILE), "utf8")) as DaemonRecord;
  } catch {
    return undefined;
  }
}

export interface DaemonOptions extends Pick<LaunchOptions, "vault" | "logFile" | "env" | "cli"> {
  /** Profile the daemon's threads with `node --cpu-prof`; the profiles are written here when it exits. */
  cpuProfileDir?: string;
  /** Modules node loads before the daemon (`--require`), with `env` for them. */
  preload?: string[];
}

export interface TimedResponse<T> {
  ms: number;
  status: number;
  body: T;
}

export interface DaemonExit {
  /** From SIGTERM to exit: the daemon finishes the tick it is in first. */
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It did not stop in time and was killed. */
  killed: boolean;
}

/**
 * `lifeboat serve` in a child process on a free port, as a user runs it. Requests carry the admin
 * token the daemon writes beside the vault.
 */
export class Daemon {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<DaemonEnd>,
    readonly url: string,
    readonly token: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const profile = options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : [];
    const preload = (options.preload ?? []).flatMap((module) => ["--require", module]);
    const { child, url, exit } = await launchDaemon({ ...options, nodeArgs: [...profile, ...preload] });
    const token = (await fs.readFile(path.join(options.vault, LOCAL_TOKEN_FILE), "utf8")).trim();
    return new Daemon(child, exit, url, token);
  }

  /** One API request, timed from sending to the whole body parsed. */
  async request<T>(method: "GET" | "PATCH", route: string, body?: unknown): Promise<TimedResponse<T>> {
    const start = performance.now();
    const response = await fetch(this.url + route, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const parsed = (await response.json()) as T;
    return { ms: performance.now() - start, status: response.status, body: parsed };
  }

  /** A request that must succeed; its body. */
  async call<T>(method: "GET" | "PATCH", route: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, route, body);
    if (response.status >= 300) throw new Error(`${method} ${route} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, and SIGKILL when it has not stopped after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<DaemonExit> {
    const start = performance.now();
    this.child.kill("SIGTERM");
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill("SIGKILL");
    }, timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    return { ms: performance.now() - start, code, signal, killed };
  }
}
