/**
 * Equal-size buffers handed out and taken back instead of allocated per use: fresh memory costs a page
 * fault per 4 KiB, and a buffer transferred to a worker thread comes back as the same ArrayBuffer.
 * Every buffer owns its whole ArrayBuffer, so it can be transferred.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(readonly size: number) {}

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(this.size);
  }

  give(memory: ArrayBuffer): void {
    if (memory.byteLength === this.size) this.free.push(memory);
  }
}
