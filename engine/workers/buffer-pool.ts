/**
 * Equal-size buffers handed out and taken back instead of allocated per use: fresh memory costs a page
 * fault per 4 KiB, and a buffer transferred to a worker thread comes back as the same ArrayBuffer.
 * Every buffer owns its whole memory, so it can be transferred.
 */
class MemoryPool<Memory extends ArrayBufferLike> {
  private readonly free: Memory[] = [];

  constructor(
    readonly size: number,
    private readonly allocate: (size: number) => Memory,
  ) {}

  take(): Memory {
    return this.free.pop() ?? this.allocate(this.size);
  }

  give(memory: Memory): void {
    if (memory.byteLength === this.size) this.free.push(memory);
  }
}

export class BufferPool extends MemoryPool<ArrayBuffer> {
  constructor(size: number) {
    super(size, (bytes) => new ArrayBuffer(bytes));
  }
}

/** Memory that worker threads use in place, neither copied nor transferred: nothing to account for again on either side. */
export class SharedBufferPool extends MemoryPool<SharedArrayBuffer> {
  constructor(size: number) {
    super(size, (bytes) => new SharedArrayBuffer(bytes));
  }
}
