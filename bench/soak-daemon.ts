import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_TOKEN_FILE } from "../engine/server/listen";

const CLI = path.join(__dirname, "../cli/main.js");
/** How long `serve` may take to open the vault and listen. */
const START_TIMEOUT_MS = 60_000;
/** A read the daemon has not answered by then counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface DaemonOptions {
  vault: string;
  /** The daemon's stdout and stderr go here: one line per scheduler tick that did work. */
  logFile: string;
  /** Profile the daemon's threads with `node --cpu-prof`; the profiles are written here when it exits. */
  cpuProfileDir?: string;
  /** Modules node loads before the daemon (`--require`), and environment for them. */
  preload?: string[];
  env?: Record<string, string>;
  /** The compiled CLI to run (default: the one beside this build). */
  cli?: string;
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
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly token: string,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const profile = options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : [];
    const preload = (options.preload ?? []).flatMap((module) => ["--require", module]);
    const child = spawn(process.execPath, [...profile, ...preload, options.cli ?? CLI, "serve", "--vault", options.vault, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    const log = createWriteStream(options.logFile);
    child.stderr!.pipe(log);
    let seen = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`lifeboat serve did not listen within ${START_TIMEOUT_MS} ms: ${seen.slice(-1000)}`)), START_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(error);
      };
      child.once("exit", (code, signal) => fail(new Error(`lifeboat serve exited (${signal ?? code}) before listening: ${seen.slice(-1000)}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        log.write(chunk);
        if (seen.length < 100_000) seen += chunk.toString("utf8");
        const match = /API at (\S+?)(;|\s)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    child.removeAllListeners("exit");
    const token = (await fs.readFile(path.join(options.vault, LOCAL_TOKEN_FILE), "utf8")).trim();
    return new Daemon(child, url, token);
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
