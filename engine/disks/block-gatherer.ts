import type { BufferPool } from "../workers/buffer-pool";

/** Blocks copied together into one read's memory, with the disk index of each. */
export interface GatheredBlocks {
  memory: Buffer<ArrayBuffer>;
  /** offset, length pairs in `memory`, as an address job takes them. */
  spans: number[];
  indexes: number[];
}

/**
 * Collects the few changed blocks of many reads into one buffer of the reads' pool, so that a delta
 * cycle addresses and encodes them as a few big jobs on the worker threads (beside the main thread's
 * change hashing) instead of a small batch per read on the main thread.
 */
export class BlockGatherer {
  private current: GatheredBlocks | null = null;
  private used = 0;

  constructor(private readonly pool: BufferPool) {}

  /** Copy a block in; when it does not fit, the blocks gathered so far are returned first, and it starts the next lot. */
  add(index: number, data: Buffer): GatheredBlocks | null {
    const full = this.current && this.used + data.length > this.pool.size ? this.take() : null;
    this.current ??= { memory: Buffer.from(this.pool.take()), spans: [], indexes: [] };
    data.copy(this.current.memory, this.used);
    this.current.spans.push(this.used, data.length);
    this.current.indexes.push(index);
    this.used += data.length;
    return full;
  }

  /** The blocks gathered so far (null when none), leaving the gatherer empty. */
  take(): GatheredBlocks | null {
    const taken = this.current;
    this.current = null;
    this.used = 0;
    return taken;
  }
}
