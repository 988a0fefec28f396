import * as path from "node:path";
import type { StoredBlock } from "../block-store";
import { SharedBufferPool } from "../../workers/buffer-pool";
import { poolThreads, WorkerPool } from "../../workers/worker-pool";
import { runDecodeJob, transfers, type DecodeJob, type DecodeResult } from "./decode-job";
import { decodeFrame } from "../../codec/frame";
import { BLOCK_ID_BYTES } from "../block-id";
import type { SealingKey } from "../encrypt/sealing-key";
import { openBlock } from "../encrypt/encrypting-block-store";

/** Raw bytes decoded per job: 64 blocks of 64 KiB, about one span read of a pack (its frames compressed). */
const JOB_BYTES = 4 * 1024 * 1024;
/** Frames of a job's blocks may each be a byte longer than the block (kept raw). */
const JOB_FRAME_BYTES = JOB_BYTES + 16 * 1024;
/**
 * Below this many raw bytes the main thread decodes a job itself: the round trip to a worker would cost
 * about as much as it saves, and reading a few blocks never starts a thread.
 */
const OFFLOAD_MIN_BYTES = 512 * 1024;
/** Jobs of one reader decoding at once: with a few readers, enough to keep both workers busy. */
const JOBS_AHEAD = 2;

export type DecodePool = WorkerPool<DecodeJob, DecodeResult>;

let shared: DecodePool | undefined;

/** The process's pool of decoding threads; idle threads stop and never keep the process alive. */
export function sharedDecodePool(): DecodePool {
  return (shared ??= new WorkerPool<DecodeJob, DecodeResult>(poolThreads(), path.join(__dirname, "decode-worker"), transfers));
}

/** Memory holding decoded blocks; it goes back to its pool once every block in it has been released. */
interface Lease {
  memory: SharedArrayBuffer;
  unreleased: number;
  pool: SharedBufferPool;
}

/**
 * Blocks handed out by a FrameDecoder: their SHA-256, taken where they were decoded, and their shared
 * memory (none for a block in memory of its own, DecodeResult.opened, which is garbage collected).
 */
const decoded = new WeakMap<Uint8Array, { digest: Buffer; lease: Lease | undefined }>();

/**
 * The SHA-256 of a block's bytes as computed where a FrameDecoder decoded them, for this very Buffer;
 * undefined for any other Buffer (one a layer above replaced, say), whose hash the caller computes.
 */
export function knownDigest(data: Uint8Array): Buffer | undefined {
  return decoded.get(data)?.digest;
}

/**
 * Done with a block read through the compressing store: its memory may be decoded into again (once all
 * blocks sharing it are released). Optional; memory of blocks never released is garbage collected as
 * usual. Blocks from anywhere else are ignored.
 */
export function releaseBlock(data: Uint8Array): void {
  const entry = decoded.get(data);
  if (!entry) return;
  decoded.delete(data);
  if (entry.lease) release(entry.lease);
}

function release(lease: Lease): void {
  if (--lease.unreleased === 0) lease.pool.give(lease.memory);
}

/**
 * Memory of the decoders reading at the time, shared, so the next disk's reads reuse what the last one's
 * used instead of touching fresh pages; dropped when the last decoder ends.
 */
let memory: { frames: SharedBufferPool; blocks: SharedBufferPool } | undefined;
let decoders = 0;

interface Batch {
  ids: string[];
  frames: Buffer<SharedArrayBuffer>;
  frameEnds: number[];
  blocks: SharedArrayBuffer;
  blockEnds: number[];
  frameBytes: number;
  blockBytes: number;
}

interface Job {
  ids: string[];
  memory: DecodeJob;
  result: DecodeResult | Promise<DecodeResult>;
  done: boolean;
}

/**
 * Decodes a stream of stored frames in batches of about JOB_BYTES, on the worker pool (small batches on
 * the main thread), several batches ahead, and hands the blocks out in the order their frames came.
 * Each block's SHA-256 is taken beside its decoding, while it is in cache (see knownDigest).
 */
export class FrameDecoder {
  private readonly frameMemory: SharedBufferPool;
  private readonly blockMemory: SharedBufferPool;
  private batch: Batch | undefined;
  private readonly jobs: Job[] = [];
  private closed = false;

  /** Seals the frames are opened with (in the same batches, on the same threads); none when they come open. */
  private readonly sealed: { key: SealingKey; bytes: Uint8Array } | undefined;

  constructor(
    key?: SealingKey,
    private readonly pool: DecodePool = sharedDecodePool(),
  ) {
    this.sealed = key && { key, bytes: key.bytes() };
    memory ??= { frames: new SharedBufferPool(JOB_FRAME_BYTES), blocks: new SharedBufferPool(JOB_BYTES) };
    this.frameMemory = memory.frames;
    this.blockMemory = memory.blocks;
    decoders++;
  }

  /** Done reading (blocks handed out may still be released later). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (--decoders === 0) memory = undefined;
  }

  /** Queue a frame (sealed, when the decoder has a key) whose block is `size` bytes (decodedSize); a full batch starts decoding. */
  add(id: string, frame: Uint8Array, size: number): void {
    let batch = this.batch;
    if (batch && (batch.frameBytes + frame.length > batch.frames.length || batch.blockBytes + size > batch.blocks.byteLength)) {
      this.flush();
      batch = undefined;
    }
    batch ??= this.batch = {
      ids: [],
      frames: Buffer.from(take(this.frameMemory, frame.length)),
      frameEnds: [],
      blocks: take(this.blockMemory, size),
      blockEnds: [],
      frameBytes: 0,
      blockBytes: 0,
    };
    batch.ids.push(id);
    batch.frames.set(frame, batch.frameBytes);
    batch.frameEnds.push((batch.frameBytes += frame.length));
    batch.blockEnds.push((batch.blockBytes += size));
  }

  /** Start decoding the frames added so far. */
  flush(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    const sealed = this.sealed ? { key: this.sealed.bytes, ids: batch.ids } : null;
    const job: DecodeJob = {
      frames: batch.frames.buffer,
      frameEnds: Uint32Array.from(batch.frameEnds),
      blocks: batch.blocks,
      blockEnds: Uint32Array.from(batch.blockEnds),
      sealed,
    };
    if (batch.blockBytes < OFFLOAD_MIN_BYTES || this.pool.size === 0) {
      this.jobs.push({ ids: batch.ids, memory: job, result: runDecodeJob(job), done: true });
      return;
    }
    const result = this.pool.run(job);
    const queued: Job = { ids: batch.ids, memory: job, result, done: false };
    // Marks the job done either way; a failure surfaces where the result is awaited (take).
    void result.then(
      () => (queued.done = true),
      () => (queued.done = true),
    );
    this.jobs.push(queued);
  }

  /** Whether the oldest job's blocks should be taken now: it is done, or enough jobs are ahead of the reader. */
  get ready(): boolean {
    return this.jobs.length > 0 && (this.jobs[0].done || this.jobs.length > JOBS_AHEAD);
  }

  get pending(): number {
    return this.jobs.length;
  }

  /** The blocks of the oldest job, once it is done. */
  async take(): Promise<Iterable<StoredBlock>> {
    const job = this.jobs.shift()!;
    return this.blocksOf(job.ids, job.memory, await job.result);
  }

  /**
   * A frame the worker could not decode is decoded again here, as decodeFrame always has: it throws the
   * same damage error (after the blocks before it), or decodes a frame the worker's way does not.
   */
  private *blocksOf(
    ids: string[],
    { frames, frameEnds, blocks, blockEnds }: DecodeJob,
    { digests, decoded: count, opened }: DecodeResult,
  ): Generator<StoredBlock> {
    // One more than the blocks in `blocks`, so the memory goes back only after this loop has also let go.
    const lease: Lease = { memory: blocks, unreleased: 1 + count - opened.filter(Boolean).length, pool: this.blockMemory };
    for (let n = 0; n < ids.length; n++) {
      const blockStart = n === 0 ? 0 : blockEnds[n - 1];
      if (n < count) {
        const own = opened[n];
        const data = own ? Buffer.from(own, 1, own.byteLength - 1) : Buffer.from(blocks, blockStart, blockEnds[n] - blockStart);
        decoded.set(data, { digest: Buffer.from(digests.buffer, digests.byteOffset + n * BLOCK_ID_BYTES, BLOCK_ID_BYTES), lease: own ? undefined : lease });
        yield { id: ids[n], data };
      } else {
        const frameStart = n === 0 ? 0 : frameEnds[n - 1];
        const stored = Buffer.from(frames, frameStart, frameEnds[n] - frameStart);
        yield { id: ids[n], data: Buffer.from(decodeFrame(ids[n], this.sealed ? openBlock(this.sealed.key, ids[n], stored) : stored)) };
      }
    }
    this.frameMemory.give(frames);
    release(lease);
  }
}

/** Memory for `bytes` from a pool, or of its own when more than the pool's buffers hold. */
function take(pool: SharedBufferPool, bytes: number): SharedArrayBuffer {
  return bytes <= pool.size ? pool.take() : new SharedArrayBuffer(bytes);
}
