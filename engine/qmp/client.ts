import { EventEmitter } from "node:events";
import * as net from "node:net";
import { EngineError, errorMessage } from "../errors";

/** An asynchronous event QEMU sent (BLOCK_JOB_COMPLETED, JOB_STATUS_CHANGE, BLOCK_EXPORT_DELETED, ...). */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** The greeting QEMU sends first on every QMP connection. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/** A command QEMU answered with an error: QMP's class (GenericError, DeviceNotFound, ...) and desc, verbatim. */
export class QmpCommandError extends EngineError {
  constructor(
    readonly command: string,
    readonly qmpClass: string,
    readonly desc: string,
  ) {
    super("QmpCommandFailed", `QMP ${command} failed (${qmpClass}): ${desc}`);
  }
}

export interface QmpConnectOptions {
  /**
   * How long to wait for QEMU's greeting. A QMP monitor serves one client at a time: a second client is
   * accepted by the kernel but greeted only when the first leaves, so this is what turns that into an error.
   */
  greetingTimeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type Line = Record<string, unknown>;

/**
 * A QMP client over a unix socket: the greeting, capabilities negotiation, commands matched to their
 * answers by `id`, events emitted as "event" (QmpEvent) and under their own name (data, event). When the
 * socket closes, every command in flight rejects with ConnectionLost, and so does every later one.
 */
export class QmpClient extends EventEmitter {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = "";
  private failure?: EngineError;
  private greeted?: (greeting: QmpGreeting) => void;
  private readonly greetingReceived = new Promise<QmpGreeting>((resolve) => {
    this.greeted = resolve;
  });
  private readonly closedPromise: Promise<void>;
  greeting?: QmpGreeting;

  /** Connect, read the greeting and leave capabilities negotiation mode (`qmp_capabilities`). */
  static async connect(socketPath: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const socket = await openSocket(socketPath);
    const client = new QmpClient(socket, socketPath);
    const timeoutMs = options.greetingTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      client.greeting = await Promise.race([
        client.greetingReceived,
        client.closedPromise.then(() => Promise.reject(client.failure)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(lost(`no QMP greeting on ${socketPath} within ${timeoutMs} ms (is another client holding the monitor? QEMU serves one at a time)`)),
            timeoutMs,
          );
        }),
      ]);
      await client.execute("qmp_capabilities");
      return client;
    } catch (error) {
      client.socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private constructor(
    private readonly socket: net.Socket,
    readonly socketPath: string,
  ) {
    super();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    // The "close" after an "error" carries the reason; a clean end without one is still a lost monitor.
    socket.on("error", (error) => {
      this.failure ??= lost(`the QMP connection to ${socketPath} failed: ${errorMessage(error)}`);
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on("close", () => {
        this.failure ??= lost(`the QMP connection to ${socketPath} closed (QEMU exited or dropped the monitor)`);
        for (const [id, call] of this.pending) {
          this.pending.delete(id);
          call.reject(withCommand(this.failure, call.command));
        }
        this.emit("close", this.failure);
        resolve();
      });
    });
  }

  /** Whether the connection is gone (every execute rejects). */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Run a command; resolves with its `return` value, rejects with QmpCommandError or ConnectionLost. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(withCommand(this.failure, command));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
    });
  }

  /** Close the connection; commands in flight reject. */
  async close(): Promise<void> {
    this.failure ??= lost(`the QMP connection to ${this.socketPath} was closed by this client`);
    this.socket.end();
    // end() waits for QEMU to close its side; destroy() if it does not promptly.
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    await this.closedPromise;
    clearTimeout(timer);
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    for (let end = this.buffered.indexOf("\n"); end >= 0 && !this.socket.destroyed; end = this.buffered.indexOf("\n")) {
      const text = this.buffered.slice(0, end).trim();
      this.buffered = this.buffered.slice(end + 1);
      if (text === "") continue;
      const line = parseLine(text);
      if (typeof line === "string") this.protocolError(line);
      else if (this.greeted) this.greet(line);
      else if (typeof line.event === "string") this.event(line);
      else this.answer(line);
    }
  }

  private greet(line: Line): void {
    if (!("QMP" in line)) {
      this.protocolError(`a first line that is not a QMP greeting: ${JSON.stringify(line).slice(0, 200)}`);
      return;
    }
    const greeted = this.greeted;
    this.greeted = undefined;
    greeted?.(line.QMP as QmpGreeting);
  }

  private event(line: Line): void {
    const event: QmpEvent = {
      event: line.event as string,
      data: (line.data as Record<string, unknown>) ?? {},
      timestamp: line.timestamp as QmpEvent["timestamp"],
    };
    this.emit("event", event);
    this.emit(event.event, event.data, event);
  }

  private answer(line: Line): void {
    // QEMU runs in-band commands in order, so an answer without an id (to a line it could not parse) is the oldest one's.
    const id = typeof line.id === "number" ? line.id : this.pending.keys().next().value;
    const call = id === undefined ? undefined : this.pending.get(id);
    if (!call || id === undefined) return;
    this.pending.delete(id);
    if ("return" in line) {
      call.resolve(line.return);
      return;
    }
    const error = (line.error ?? {}) as { class?: string; desc?: string };
    call.reject(new QmpCommandError(call.command, error.class ?? "UnknownError", error.desc ?? JSON.stringify(line)));
  }

  private protocolError(what: string): void {
    this.failure ??= new EngineError("QmpProtocolError", `${this.socketPath} sent ${what}`);
    this.socket.destroy();
  }
}

/** A line as a JSON object, or what is wrong with it. */
function parseLine(text: string): Line | string {
  try {
    const line: unknown = JSON.parse(text);
    if (typeof line === "object" && line !== null && !Array.isArray(line)) return line as Line;
  } catch {
    return `a line that is not JSON: ${text.slice(0, 200)}`;
  }
  return `a line that is not a JSON object: ${text.slice(0, 200)}`;
}

const lost = (message: string) => new EngineError("ConnectionLost", message);

/** The connection's failure, told from the command that met it. */
const withCommand = (failure: EngineError, command: string) =>
  new EngineError(failure.code, `QMP ${command} did not complete: ${failure.message}`, { recoverable: failure.recoverable });

function openSocket(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    // ENOENT or ECONNREFUSED here means no QEMU listens there: a lost monitor, not a missing disk.
    socket.once("error", (error) => reject(lost(`cannot connect to the QMP socket ${socketPath}: ${errorMessage(error)}`)));
  });
}
