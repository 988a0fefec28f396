import type { SealingKey } from "../store/encrypt/sealing-key";
import { addressedBlock, frameBytesPerBlock, runAddressJob, type AddressJob, type AddressResult } from "./address-job";
import { sharedAddressPool, type AddressPool } from "./address-pool";
import { chunkBytes } from "./block-reader";
import { BufferPool } from "../workers/buffer-pool";

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
  /**
   * The zstd level workers encode frames at, the memory they encode into, and the data key they seal
   * frames with (null: the store does not seal); null for ids only.
   */
  private readonly encoding: { level: number; frames: BufferPool; seal: Uint8Array | null } | null;

  constructor(
    blockSize: number,
    level: number | undefined,
    sealingKey?: SealingKey,
    private readonly pool: AddressPool = sharedAddressPool(),
  ) {
    this.reads = new BufferPool(chunkBytes(blockSize));
    const frameBytes = (this.reads.size / blockSize) * frameBytesPerBlock(blockSize, sealingKey !== undefined);
    this.encoding = level === undefined ? null : { level, frames: new BufferPool(frameBytes), seal: sealingKey?.bytes() ?? null };
  }

  /**
   * Address the blocks at `spans` (offset, length pairs in `read.buffer`) of a read; the read's memory goes
   * with the job. A small batch is done at once, a big one resolves when its worker answers.
   */
  address(read: Buffer<ArrayBuffer>, spans: number[]): AddressResult | Promise<AddressResult> {
    return this.dispatch(read, spans, this.encoding);
  }

  /** Small batches here, big ones to a worker. */
  private dispatch(read: Buffer<ArrayBuffer>, spans: number[], encoding: BlockAddresser["encoding"]): AddressResult | Promise<AddressResult> {
    let bytes = 0;
    for (let n = 1; n < spans.length; n += 2) bytes += spans[n];
    const job: AddressJob = { data: read.buffer, spans: Uint32Array.from(spans), encode: null };
    if (bytes < OFFLOAD_MIN_BYTES || this.pool.size === 0) return runAddressJob(job);
    if (encoding) job.encode = { level: encoding.level, frames: encoding.frames.take(), seal: encoding.seal };
    return this.pool.run(job);
  }

  /**
   * SHA-256 ids (hex) of blocks that are not in a read, such as copies read back from the store: they are
   * copied into read memory, a read's worth per job, so big batches go to the workers too.
   */
  async idsOf(blocks: Buffer[]): Promise<string[]> {
    const groups = await Promise.all(inGroupsOf(blocks, this.reads.size).map((group) => this.idsOfGroup(group)));
    return groups.flat();
  }

  private async idsOfGroup(group: Buffer[]): Promise<string[]> {
    const memory = Buffer.from(this.reads.take());
    const spans: number[] = [];
    let offset = 0;
    for (const block of group) {
      spans.push(offset, block.length);
      offset += block.copy(memory, offset);
    }
    const result = await this.dispatch(memory, spans, null);
    const ids = group.map((_, n) => addressedBlock(result, n).id.toString("hex"));
    this.release(result);
    return ids;
  }

  /** Done with a result's blocks: its memory may be read or encoded into again. */
  release(result: AddressResult): void {
    this.reads.give(result.data);
    if (result.encoded) this.encoding?.frames.give(result.encoded.frames);
  }
}

/** Consecutive blocks in groups of at most `bytes` bytes each. */
function inGroupsOf(blocks: Buffer[], bytes: number): Buffer[][] {
  const groups: Buffer[][] = [];
  let room = 0;
  for (const block of blocks) {
    if (block.length > bytes) throw new RangeError(`a block of ${block.length} bytes does not fit in ${bytes}`);
    if (block.length > room) {
      groups.push([]);
      room = bytes;
    }
    groups[groups.length - 1].push(block);
    room -= block.length;
  }
  return groups;
}
