import * as net from "node:net";
import { EngineError } from "../../schema/errors";
import { ValidationError } from "../../schema/validate";
import { ByteStream, StreamEnded } from "./byte-stream";
import { commandError, connectionLost, protocolError, type ServerName } from "./errors";
import { type BlockSizes, type Negotiated, negotiate } from "./handshake";
import {
  Command,
  commandRequest,
  Option,
  optionRequest,
  readU64,
  REPLY_FLAG_DONE,
  REPLY_TYPE_ERROR_BIT,
  ReplyType,
  SIMPLE_REPLY_BYTES,
  SIMPLE_REPLY_MAGIC,
  STRUCTURED_HEADER_BYTES,
  STRUCTURED_REPLY_MAGIC,
} from "./protocol";

/** A unix socket (preferred: no port to find, file permissions guard it) or TCP on loopback. */
export type NbdAddress = { socket: string } | { host: string; port: number };

export interface ConnectOptions {
  /** The export's name; qemu-nbd's default export is "". */
  export: string;
  /** Meta contexts for block status, e.g. "base:allocation", "qemu:dirty-bitmap:b0"; each must be granted or connect fails. */
  metaContexts?: string[];
  /** Ends connecting and negotiation. */
  signal?: AbortSignal;
  /** A request with no complete reply by then rejects (ConnectionLost); its late reply is read and dropped. */
  requestTimeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A run of the export with one status: flags as the context defines them (base:allocation 1 = hole, 2 = zero; a dirty bitmap 1 = dirty). */
export interface Extent {
  offset: number;
  length: number;
  flags: number;
}

interface Pending {
  what: string;
  command: number;
  offset: number;
  length: number;
  /** Where a read's bytes go; null once nobody waits (aborted, timed out): the payload is then dropped. */
  target: Buffer | null;
  covered: number;
  /** For block status: the context whose chunk is kept, and its descriptors. */
  contextId?: number;
  descriptors?: Array<{ length: number; flags: number }>;
  error?: EngineError;
  /** Nobody waits any more (aborted, timed out); the reply is still read, to keep the stream in step. */
  abandoned?: boolean;
  resolve: () => void;
  reject: (error: EngineError) => void;
}

/** One block status request asks at most this much (the length field is 32 bits); the loop asks again for the rest. */
const MAX_STATUS_REQUEST = 0x8000_0000;

const describeAddress = (address: NbdAddress): ServerName =>
  "socket" in address ? `NBD server at socket ${address.socket}` : `NBD server at ${address.host}:${address.port}`;

/**
 * An NBD client: fixed newstyle negotiation with structured replies and meta contexts, then reads and block
 * status with any number of requests in flight, matched to their replies by cookie. Requests are aligned to
 * the server's minimum block size and split at its maximum. A connection that fails (the server died, a
 * malformed reply) rejects every request waiting and every later one.
 */
export class NbdClient {
  readonly size: number;
  readonly blockSizes: BlockSizes;
  readonly transmissionFlags: number;
  private readonly contexts: Map<string, number>;
  private readonly pending = new Map<number, Pending>();
  private nextCookie = 1;
  private failure: EngineError | undefined;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    private readonly stream: ByteStream,
    private readonly server: ServerName,
    negotiated: Negotiated,
    private readonly requestTimeoutMs: number | undefined,
  ) {
    this.size = negotiated.size;
    this.blockSizes = negotiated.blockSizes;
    this.transmissionFlags = negotiated.transmissionFlags;
    this.contexts = negotiated.contexts;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.receive();
  }

  static async connect(address: NbdAddress, options: ConnectOptions): Promise<NbdClient> {
    const server = describeAddress(address);
    const socket = await openSocket(address, server, options.signal);
    const stream = new ByteStream(socket);
    const onAbort = () => socket.destroy();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const negotiated = await negotiate(socket, stream, server, options.export, options.metaContexts ?? []);
      return new NbdClient(socket, stream, server, negotiated, options.requestTimeoutMs);
    } catch (error) {
      // Tell the server we give up (NBD_OPT_ABORT), then go; a dead socket just goes.
      socket.end(optionRequest(Option.ABORT), () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
      if (options.signal?.aborted) throw connectionLost(server, "connecting was aborted");
      if (error instanceof StreamEnded) throw connectionLost(server, `the connection ended during negotiation (${error.message})`);
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Whether the server granted a meta context at connect. */
  hasContext(name: string): boolean {
    return this.contexts.has(name);
  }

  /**
   * `length` bytes at `offset`, into `into` (from its start) when given, else a new buffer. Holes read as
   * zeros. Unaligned ranges are read aligned to the server's minimum block size and cut.
   */
  async read(offset: number, length: number, into?: Buffer, options: RequestOptions = {}): Promise<Buffer> {
    this.checkRange(offset, length);
    if (into && into.length < length) throw ValidationError.refused("into", `a buffer of ${into.length} bytes cannot take a read of ${length}`);
    const target = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    if (length === 0) return target;
    const { minimum } = this.blockSizes;
    const start = offset - (offset % minimum);
    const end = Math.min(this.size, Math.ceil((offset + length) / minimum) * minimum);
    if (start === offset && end === offset + length) {
      await this.readAligned(offset, target, options);
    } else {
      const aligned = Buffer.allocUnsafe(end - start);
      await this.readAligned(start, aligned, options);
      aligned.copy(target, 0, offset - start, offset - start + length);
    }
    return target;
  }

  /** The status of [offset, offset + length) in one granted meta context, as extents covering the range in order. */
  async blockStatus(context: string, offset: number, length: number, options: RequestOptions = {}): Promise<Extent[]> {
    const contextId = this.contexts.get(context);
    if (contextId === undefined) throw new EngineError("NbdContextUnavailable", `${this.server}: meta context '${context}' was not negotiated at connect`);
    this.checkRange(offset, length);
    const extents: Extent[] = [];
    const end = offset + length;
    const { minimum } = this.blockSizes;
    let at = offset - (offset % minimum);
    while (at < end) {
      const ask = Math.min(Math.ceil((end - at) / minimum) * minimum, MAX_STATUS_REQUEST, this.size - at);
      const request = this.request(Command.BLOCK_STATUS, at, ask, null, options, contextId);
      await request.done;
      const descriptors = request.pending.descriptors ?? [];
      let cursor = at;
      // The server may answer less than asked (then we ask again from where it stopped), or run its last extent past the range (cut here).
      for (const descriptor of descriptors) {
        if (cursor >= end) break;
        const from = Math.max(cursor, offset);
        const to = Math.min(cursor + descriptor.length, end);
        if (to > from) appendExtent(extents, { offset: from, length: to - from, flags: descriptor.flags });
        cursor += descriptor.length;
      }
      at = cursor;
    }
    return extents;
  }

  /** Ends the session: NBD_CMD_DISC, then the socket closes. Requests still waiting reject (ConnectionLost). */
  async close(): Promise<void> {
    if (!this.failure) {
      this.fail(connectionLost(this.server, "the client was closed"), false);
      this.socket.end(commandRequest(Command.DISC, 0, 0, 0));
      setTimeout(() => this.socket.destroy(), 2000).unref();
    }
    await this.closed;
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw ValidationError.refused("offset", `offset must be a whole number of bytes from 0, got ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw ValidationError.refused("length", `length must be a whole number of bytes from 0, got ${length}`);
    if (offset + length > this.size) {
      throw ValidationError.refused("length", `${length} bytes at offset ${offset} go past the end of the export (${this.size} bytes)`);
    }
  }

  /** An aligned range as requests of at most the server's maximum, all in flight at once. */
  private async readAligned(offset: number, target: Buffer, options: RequestOptions): Promise<void> {
    const { maximum, minimum } = this.blockSizes;
    const step = maximum - (maximum % minimum);
    const parts: Promise<void>[] = [];
    for (let done = 0; done < target.length; done += step) {
      const length = Math.min(step, target.length - done);
      parts.push(this.request(Command.READ, offset + done, length, target.subarray(done, done + length), options).done);
    }
    const results = await Promise.allSettled(parts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private request(
    command: number,
    offset: number,
    length: number,
    target: Buffer | null,
    options: RequestOptions,
    contextId?: number,
  ): { pending: Pending; done: Promise<void> } {
    const what = `${command === Command.READ ? "read" : "block status"} of ${length} bytes at offset ${offset}`;
    let pending!: Pending;
    const done = new Promise<void>((resolve, reject) => {
      pending = { what, command, offset, length, target, covered: 0, contextId, resolve, reject };
    });
    if (this.failure) {
      pending.reject(this.failure);
      return { pending, done };
    }
    const cookie = this.nextCookie++;
    this.pending.set(cookie, pending);
    this.socket.write(commandRequest(command, cookie, offset, length));
    this.watch(cookie, pending, options.signal);
    return { pending, done };
  }

  /** Gives up on a request when the caller's signal fires or the timeout passes; its reply, when it comes, is dropped. */
  private watch(cookie: number, pending: Pending, signal: AbortSignal | undefined): void {
    if (!signal && this.requestTimeoutMs === undefined) return;
    const giveUp = (why: string) => {
      if (this.pending.get(cookie) !== pending || pending.abandoned) return;
      const reject = pending.reject;
      pending.abandoned = true;
      pending.target = null;
      pending.resolve = pending.reject = () => {};
      reject(connectionLost(this.server, `${pending.what} ${why}`));
    };
    const onAbort = () => giveUp("was aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const timer =
      this.requestTimeoutMs === undefined ? undefined : setTimeout(() => giveUp(`had no reply within ${this.requestTimeoutMs} ms`), this.requestTimeoutMs);
    const settle = pending.resolve;
    const fail = pending.reject;
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    pending.resolve = () => {
      cleanup();
      settle();
    };
    pending.reject = (error) => {
      cleanup();
      fail(error);
    };
  }

  /** The receive loop: one reply (or chunk) after another until the connection ends. */
  private async receive(): Promise<void> {
    try {
      for (;;) {
        const magic = (await this.stream.exact(4)).readUInt32BE(0);
        if (magic === STRUCTURED_REPLY_MAGIC) await this.structuredChunk();
        else if (magic === SIMPLE_REPLY_MAGIC) await this.simpleReply();
        else throw protocolError(this.server, `bad reply magic 0x${magic.toString(16)}`);
      }
    } catch (error) {
      if (error instanceof StreamEnded) {
        const waiting = this.pending.size;
        this.fail(connectionLost(this.server, `${error.message}${waiting > 0 ? ` with ${waiting} request${waiting === 1 ? "" : "s"} waiting` : ""}`));
      } else {
        this.fail(error instanceof EngineError ? error : protocolError(this.server, String(error)));
      }
    }
  }

  private async simpleReply(): Promise<void> {
    const header = await this.stream.exact(SIMPLE_REPLY_BYTES - 4);
    const errno = header.readUInt32BE(0);
    const cookie = readU64(header, 4);
    const pending = this.pendingFor(cookie);
    if (errno !== 0) {
      pending.error = commandError(this.server, errno, pending.what, "");
    } else if (pending.command === Command.READ) {
      // A simple reply to a read carries all of its data.
      if (pending.target) await this.stream.into(pending.target, 0, pending.length);
      else await this.stream.skip(pending.length);
      pending.covered = pending.length;
    } else {
      pending.error = protocolError(this.server, `a simple reply without error to ${pending.what}`);
    }
    this.finish(cookie, pending);
  }

  private async structuredChunk(): Promise<void> {
    const header = await this.stream.exact(STRUCTURED_HEADER_BYTES - 4);
    const flags = header.readUInt16BE(0);
    const type = header.readUInt16BE(2);
    const cookie = readU64(header, 4);
    const length = header.readUInt32BE(12);
    const pending = this.pendingFor(cookie);
    const bad = (what: string) => protocolError(this.server, `${what} in the reply to ${pending.what}`);
    if (type === ReplyType.OFFSET_DATA && pending.command === Command.READ) {
      if (length <= 8) throw bad(`an OFFSET_DATA chunk of ${length} bytes`);
      const at = readU64(await this.stream.exact(8), 0);
      const size = length - 8;
      if (at < pending.offset || at + size > pending.offset + pending.length) throw bad(`data for ${size} bytes at ${at}, outside the request`);
      if (pending.target) await this.stream.into(pending.target, at - pending.offset, size);
      else await this.stream.skip(size);
      pending.covered += size;
    } else if (type === ReplyType.OFFSET_HOLE && pending.command === Command.READ) {
      if (length !== 12) throw bad(`an OFFSET_HOLE chunk of ${length} bytes, not 12`);
      const body = await this.stream.exact(12);
      const at = readU64(body, 0);
      const size = body.readUInt32BE(8);
      if (size === 0 || at < pending.offset || at + size > pending.offset + pending.length) throw bad(`a hole of ${size} bytes at ${at}, outside the request`);
      pending.target?.fill(0, at - pending.offset, at - pending.offset + size);
      pending.covered += size;
    } else if (type === ReplyType.BLOCK_STATUS && pending.command === Command.BLOCK_STATUS) {
      if (length < 12 || (length - 4) % 8 !== 0) throw bad(`a BLOCK_STATUS chunk of ${length} bytes`);
      const body = await this.stream.exact(length);
      if (body.readUInt32BE(0) === pending.contextId) {
        const descriptors: Array<{ length: number; flags: number }> = [];
        for (let at = 4; at < length; at += 8) {
          const extentLength = body.readUInt32BE(at);
          if (extentLength === 0) throw bad("an extent of length 0");
          descriptors.push({ length: extentLength, flags: body.readUInt32BE(at + 4) });
        }
        pending.descriptors = descriptors;
      }
    } else if (type & REPLY_TYPE_ERROR_BIT) {
      pending.error ??= await this.errorChunk(type, length, pending.what);
    } else if (type !== ReplyType.NONE || length !== 0) {
      throw bad(`a chunk of type ${type} (${length} bytes)`);
    }
    if (flags & REPLY_FLAG_DONE) this.finish(cookie, pending);
  }

  /** ERROR or ERROR_OFFSET (or an error type this client does not know): the errno, and the server's message. */
  private async errorChunk(type: number, length: number, what: string): Promise<EngineError> {
    if (length < 6) throw protocolError(this.server, `an error chunk of ${length} bytes in the reply to ${what}`);
    const body = await this.stream.exact(length);
    const errno = body.readUInt32BE(0);
    const messageLength = body.readUInt16BE(4);
    const knownType = type === ReplyType.ERROR || type === ReplyType.ERROR_OFFSET;
    if (knownType && 6 + messageLength + (type === ReplyType.ERROR_OFFSET ? 8 : 0) !== length) {
      throw protocolError(this.server, `an error chunk whose message length ${messageLength} does not fit its ${length} bytes`);
    }
    const message = knownType ? body.subarray(6, 6 + messageLength).toString("utf8") : "";
    const where = type === ReplyType.ERROR_OFFSET ? ` (at offset ${readU64(body, 6 + messageLength)})` : "";
    return commandError(this.server, errno, what, `${message}${where}`);
  }

  private pendingFor(cookie: number): Pending {
    const pending = this.pending.get(cookie);
    if (!pending) throw protocolError(this.server, `a reply for cookie ${cookie}, which no request waits for`);
    return pending;
  }

  private finish(cookie: number, pending: Pending): void {
    this.pending.delete(cookie);
    const error = pending.error ?? this.incomplete(pending);
    if (error) pending.reject(error);
    else pending.resolve();
  }

  /** A reply that ended (DONE) without what its request needs: a read not covered whole, a block status without our context's extents. */
  private incomplete(pending: Pending): EngineError | undefined {
    if (pending.command === Command.READ && pending.covered !== pending.length) {
      return protocolError(this.server, `the reply to ${pending.what} covered ${pending.covered} bytes`);
    }
    if (pending.command === Command.BLOCK_STATUS && !pending.descriptors) {
      return protocolError(this.server, `the reply to ${pending.what} has no extents for the context asked`);
    }
    return undefined;
  }

  /** The connection is done for: every request waiting, and every later one, rejects with `error`. */
  private fail(error: EngineError, destroy = true): void {
    if (this.failure) return;
    this.failure = error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) pending.reject(error);
    if (destroy) this.socket.destroy();
  }
}

/** Adjacent extents with the same flags become one. */
function appendExtent(extents: Extent[], extent: Extent): void {
  const last = extents[extents.length - 1];
  if (last && last.offset + last.length === extent.offset && last.flags === extent.flags) last.length += extent.length;
  else extents.push(extent);
}

function openSocket(address: NbdAddress, server: ServerName, signal: AbortSignal | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = "socket" in address ? net.createConnection({ path: address.socket }) : net.createConnection({ host: address.host, port: address.port });
    const onAbort = () => {
      socket.destroy();
      reject(connectionLost(server, "connecting was aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(connectionLost(server, `cannot connect: ${error.message}`));
    });
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      if ("host" in address) socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
