import { promises as fs } from "node:fs";
import * as path from "node:path";
import { classify, errorMessage } from "../engine/errors";
import type { AgentIdentity } from "../engine/agents/registration";
import type { AgentWork } from "../engine/agents/work";
import { AgentLink } from "./link";
import { DiskStates } from "./disk-states";
import { runWork } from "./window";
import { makePrivateDir, writePrivateFile } from "../engine/private-files";
import { SealingKey } from "../engine/store/encrypt/sealing-key";
import type { BackendFactory } from "../engine/store/backend";
import { localBackendAt } from "../engine/store/local/local-backend";
import { closedWindowReports, WindowJournal } from "../engine/disks/window-journal";

export interface AgentOptions {
  engine: string;
  host: string;
  site?: string;
  /** Needed only until the agent has registered; its identity is kept in workDir after that. */
  registrationKey?: string;
  /** The agent's own directory: its identity (token) lives here. */
  workDir: string;
  /** The vault's block store as mounted on this host (default: the path the engine reports). */
  storeDir?: string;
  /** Opens the backend at the store's location (default: its files, the directory storeDir). */
  backend?: BackendFactory;
  /** Call in this often instead of the engine's heartbeat interval (tests; hosts that should react fast). */
  pollMs?: number;
  log?: (line: string) => void;
}

const IDENTITY_FILE = "agent.json";
/** Consistency windows open now (see engine/disks/window-journal.ts), under the work directory. */
const WINDOWS_DIR = "windows";

/**
 * The agent of one source host: registers once with the vault's registration key, then calls in on the
 * engine's heartbeat, does the work handed out (reading the host's disks, writing blocks into the shared
 * store) and reports it. While it works it keeps calling in, so the engine knows the host is alive and
 * the work stays leased to it.
 */
export class Agent {
  private stopping = false;
  private wake: () => void = () => undefined;
  private busy: string[] = [];
  /** Until the first heartbeat goes through: the engine then drops the leases a previous run of this agent held. */
  private fresh = true;
  private offset = 0;
  /** Fetched at the first work and kept in memory only (null: the vault is not encrypted). */
  private dataKey: SealingKey | null | undefined;

  private constructor(
    private readonly options: AgentOptions,
    private readonly identity: AgentIdentity,
    private readonly link: AgentLink,
    private readonly states: DiskStates,
    private readonly windows: WindowJournal,
  ) {}

  /** The registered agent (registering now when the work directory holds no identity for this host). */
  static async start(options: AgentOptions): Promise<Agent> {
    // Machines a killed agent left paused must not wait for the engine: they are resumed first.
    const windows = new WindowJournal(path.join(options.workDir, WINDOWS_DIR));
    for (const record of await windows.closeLeftOpen()) {
      for (const { message } of closedWindowReports(record)) options.log?.(message);
    }
    const file = path.join(options.workDir, IDENTITY_FILE);
    const saved = await fs
      .readFile(file, "utf8")
      .then((t) => JSON.parse(t) as AgentIdentity & { engine: string })
      .catch(() => undefined);
    let identity: AgentIdentity;
    if (saved && saved.host === options.host && saved.engine === options.engine) identity = saved;
    else {
      if (!options.registrationKey) throw new Error(`the agent of ${options.host} is not registered yet: give the vault's registration key`);
      identity = await AgentLink.register(options.engine, { host: options.host, site: options.site, registrationKey: options.registrationKey });
      await makePrivateDir(options.workDir);
      // Atomic: whoever sees the host registered may read the identity while this process writes it.
      await writePrivateFile(file, JSON.stringify({ ...identity, engine: options.engine }, null, 2) + "\n");
      options.log?.(`registered host ${identity.host} in site ${identity.site}`);
    }
    const link = new AgentLink(options.engine, identity);
    return new Agent(options, identity, link, new DiskStates(link), windows);
  }

  get host(): string {
    return this.identity.host;
  }

  /** Call in and do what is due, until stop(). A lost engine is retried at the next beat. */
  async run(): Promise<void> {
    let interval = this.options.pollMs ?? this.identity.heartbeatMs;
    while (!this.stopping) {
      try {
        const engineInterval = await this.once();
        interval = this.options.pollMs ?? engineInterval;
      } catch (error) {
        this.log(`engine unreachable or refused: ${errorMessage(error)}`);
      }
      await this.sleep(interval);
    }
  }

  /** One heartbeat and the work it hands out; returns the engine's heartbeat interval. */
  async once(): Promise<number> {
    const answer = await this.beat(true);
    // Everything handed out stays leased while it waits its turn.
    this.busy = answer.work.flatMap((w) => w.items.map((i) => i.name));
    try {
      for (const work of answer.work) {
        if (this.stopping) break;
        await this.perform(work);
        this.busy = this.busy.filter((name) => !work.items.some((i) => i.name === name));
      }
    } finally {
      this.busy = [];
    }
    return answer.heartbeatMs;
  }

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  private async beat(takeWork: boolean) {
    const sent = Date.now();
    // Windows closed after a crash go into their machines' history with the next full heartbeat, then are forgotten.
    const closed = takeWork ? await this.windows.unreported() : [];
    const answer = await this.link.heartbeat(this.busy, takeWork, { fresh: this.fresh, windowsClosed: closed.flatMap(closedWindowReports) });
    this.fresh = false;
    for (const record of closed) await this.windows.forget(record.id);
    // The engine stamps points; its clock is taken as read halfway through the call.
    this.offset = answer.now - (sent + Date.now()) / 2;
    return answer;
  }

  private async perform(work: AgentWork): Promise<void> {
    const names = work.items.map((i) => i.name);
    // Keep calling in while the work runs (the host stays "seen", the work stays leased).
    const keepAlive = setInterval(() => void this.beat(false).catch(() => undefined), this.identity.heartbeatMs);
    try {
      if (this.dataKey === undefined) {
        const raw = await this.link.dataKey();
        this.dataKey = raw && SealingKey.of(raw);
      }
      const location = this.options.storeDir ?? this.identity.storeDir;
      const context = {
        link: this.link,
        openBackend: () => (this.options.backend ?? localBackendAt)(location),
        blockSize: this.identity.blockSize,
        dataKey: this.dataKey ?? undefined,
        states: this.states,
        engineNow: () => Date.now() + this.offset,
        windows: this.windows,
        workDir: this.options.workDir,
      };
      const report = await runWork(context, work);
      this.log(
        `${work.mode} window of ${names.join(", ")}: ${report.items.reduce((n, i) => n + i.bytesStored, 0)} bytes stored, ${report.blocks.length} new block(s)`,
      );
    } catch (error) {
      const e = classify(error);
      this.log(`${work.mode} of ${names.join(", ")} failed (${e.code}): ${e.message}`);
      await this.link
        .failure({ mode: work.mode, items: names, error: { code: e.code, message: e.message.slice(0, 4096), recoverable: e.recoverable } })
        .catch((report) => this.log(`could not report the failure: ${errorMessage(report)}`));
    } finally {
      clearInterval(keepAlive);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}
