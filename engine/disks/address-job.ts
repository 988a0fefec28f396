import { BLOCK_ID_BYTES, blockId } from "../store/block-id";
import { encodeFrameInto, frameBound, frameParts } from "../codec/frame";
import { SEAL_OVERHEAD, SealingKey } from "../store/encrypt/sealing-key";

/**
 * Address some blocks of one read: their SHA-256 ids and, when asked, their stored (compressed) frames.
 * Runs on a worker thread for big batches and on the main thread for small ones. Jobs and results are
 * plain data; the big buffers are transferred between threads, not copied.
 */
export interface AddressJob {
  /** The read's memory; the blocks are byte ranges of it. */
  data: ArrayBuffer;
  /** The blocks to address: offset, length, offset, length ... */
  spans: Uint32Array;
  /**
   * Encode frames too, at this zstd level, into `frames` (at least frameBound(length) bytes per block,
   * plus SEAL_OVERHEAD when sealing); with `seal` (a data key's bytes), seal each frame with it as well.
   */
  encode: { level: number; frames: ArrayBuffer; seal: Uint8Array | null } | null;
}

export interface AddressResult {
  /** The job's memory, given back. */
  data: ArrayBuffer;
  spans: Uint32Array;
  /** BLOCK_ID_BYTES per block, in span order. */
  ids: Uint8Array;
  /** The job's frame memory holding the frames back to back (sealed when asked), and where each ends. */
  encoded: { frames: ArrayBuffer; ends: Uint32Array; sealed: boolean } | null;
}

export function runAddressJob({ data, spans, encode }: AddressJob): AddressResult {
  const source = Buffer.from(data);
  const count = spans.length / 2;
  const ids = new Uint8Array(count * BLOCK_ID_BYTES);
  const into = encode && { level: encode.level, frames: Buffer.from(encode.frames), ends: new Uint32Array(count) };
  const key = encode?.seal ? SealingKey.of(Buffer.from(encode.seal)) : undefined;
  let end = 0;
  for (let n = 0; n < count; n++) {
    const block = source.subarray(spans[2 * n], spans[2 * n] + spans[2 * n + 1]);
    const id = blockId(block);
    ids.set(id, n * BLOCK_ID_BYTES);
    if (!into) continue;
    // While the block is in cache; a frame to seal is compressed beside the job's memory first (or kept raw, not copied).
    if (!key) into.ends[n] = end += encodeFrameInto(block, into.level, into.frames, end);
    else into.ends[n] = end += key.sealInto("block", id.toString("hex"), frameParts(block, into.level, scratchFor(block.length)), into.frames, end);
  }
  return { data, spans, ids, encoded: into && { frames: into.frames.buffer, ends: into.ends, sealed: key !== undefined } };
}

/** Frame memory to seal from, one per thread, grown to the largest block seen. */
let scratch: Buffer | undefined;
function scratchFor(blockLength: number): Buffer {
  if (!scratch || scratch.length < frameBound(blockLength)) scratch = Buffer.allocUnsafe(frameBound(blockLength));
  return scratch;
}

/** Frame memory a job needs per block of `blockSize` bytes. */
export const frameBytesPerBlock = (blockSize: number, sealing: boolean): number => frameBound(blockSize) + (sealing ? SEAL_OVERHEAD : 0);

/** The memory a job or result moves between threads rather than copies. */
export function transfers(message: AddressJob | AddressResult): ArrayBuffer[] {
  const frames = "encode" in message ? message.encode?.frames : message.encoded?.frames;
  return frames ? [message.data, frames] : [message.data];
}

export interface AddressedBlock {
  /** Where the block starts in the job's memory. */
  offset: number;
  id: Buffer;
  data: Buffer;
  /** The block's stored form, when the job encoded it. */
  frame: Buffer | undefined;
  /** Whether `frame` is sealed too (PutOptions.sealed). */
  sealed: boolean;
}

/** Block `n` of a result, as views of the result's memory. */
export function addressedBlock({ data, spans, ids, encoded }: AddressResult, n: number): AddressedBlock {
  const frameStart = n === 0 ? 0 : (encoded?.ends[n - 1] ?? 0);
  return {
    offset: spans[2 * n],
    id: Buffer.from(ids.buffer, ids.byteOffset + n * BLOCK_ID_BYTES, BLOCK_ID_BYTES),
    data: Buffer.from(data, spans[2 * n], spans[2 * n + 1]),
    frame: encoded ? Buffer.from(encoded.frames, frameStart, encoded.ends[n] - frameStart) : undefined,
    sealed: encoded?.sealed ?? false,
  };
}
