import { frameBound } from "../store/compress/frame";
import { runAddressJob, type AddressJob, type AddressResult } from "./address-job";
import { sharedAddressPool, type AddressPool } from "./address-pool";
import { chunkBytes } from "./block-reader";
import { BufferPool } from "./buffer-pool";

/**
 * Below this many bytes to address in one read, the main thread hashes them itself: the round trip to a
 * worker would cost about as much as it saves, and a delta cycle (a few changed blocks per read) never
 * starts a worker thread.
 */
const OFFLOAD_MIN_BYTES = 1024 * 1024;

/**
 * Addresses the blocks of a disk's reads: big batches on the worker pool, which also encodes their frames
 * when given a level, small ones on the main thread (ids only; the store compresses what it lacks). Owns
 * the memory of reads and frames, which travels with each job and comes back through `release`.
 */
export class BlockAddresser {
  /** Memory to read into (for readChunks). */
  readonly reads: BufferPool;
  private readonly frames: BufferPool | null;

  constructor(
    blockSize: number,
    private readonly level: number | undefined,
    private readonly pool: AddressPool = sharedAddressPool(),
  ) {
    this.reads = new BufferPool(chunkBytes(blockSize));
    this.frames = level === undefined ? null : new BufferPool((this.reads.size / blockSize) * frameBound(blockSize));
  }

  /** Address the blocks at `spans` (offset, length pairs) of a read; the read's memory goes with the job. */
  address(read: Buffer<ArrayBuffer>, spans: number[]): Promise<AddressResult> {
    let bytes = 0;
    for (let n = 1; n < spans.length; n += 2) bytes += spans[n];
    const job: AddressJob = { data: read.buffer, spans: Uint32Array.from(spans), encode: null };
    if (bytes < OFFLOAD_MIN_BYTES) return Promise.resolve(runAddressJob(job));
    if (this.frames && this.level !== undefined) job.encode = { level: this.level, frames: this.frames.take() };
    return this.pool.run(job);
  }

  /** Done with a result's blocks: its memory may be read or encoded into again. */
  release(result: AddressResult): void {
    this.reads.give(result.data);
    if (result.encoded) this.frames?.give(result.encoded.frames);
  }
}
