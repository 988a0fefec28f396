import type { Socket } from "node:net";

/** Why a stream gave out: the peer closed it (with the socket's error, if one ended it). */
export class StreamEnded extends Error {
  constructor(override readonly cause?: Error) {
    super(cause ? `connection failed: ${cause.message}` : "connection closed by the server");
  }
}

/**
 * The bytes a socket receives, taken in exact amounts: a header, or a payload copied straight into the
 * caller's buffer as it arrives (no staging copy of a 4 MiB read). One reader at a time: the handshake, then
 * the client's receive loop.
 */
export class ByteStream {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended: StreamEnded | undefined;
  private wake: (() => void) | undefined;

  constructor(socket: Socket) {
    let failure: Error | undefined;
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.notify();
    });
    socket.on("error", (error) => {
      failure ??= error;
    });
    socket.on("close", () => {
      this.ended = new StreamEnded(failure);
      this.notify();
    });
  }

  /** Exactly `length` bytes. */
  async exact(length: number): Promise<Buffer> {
    await this.atLeast(length);
    const first = this.chunks[0];
    if (first.length >= length) return this.take(length);
    const out = Buffer.allocUnsafe(length);
    await this.into(out, 0, length);
    return out;
  }

  /** Copy the next `length` bytes into `target` at `at`, as they arrive. */
  async into(target: Buffer, at: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      await this.atLeast(1);
      const part = this.take(Math.min(length - done, this.chunks[0].length));
      part.copy(target, at + done);
      done += part.length;
    }
  }

  /** Drop the next `length` bytes (the payload of a reply nobody waits for any more). */
  async skip(length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      await this.atLeast(1);
      done += this.take(Math.min(length - done, this.chunks[0].length)).length;
    }
  }

  /** Up to `length` bytes of the first chunk (the caller made sure it has them). */
  private take(length: number): Buffer {
    const first = this.chunks[0];
    const part = first.subarray(0, length);
    if (length === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(length);
    this.buffered -= length;
    return part;
  }

  private async atLeast(length: number): Promise<void> {
    while (this.buffered < length) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
