import { createHash } from "node:crypto";
import { SealingKey } from "../encrypt/sealing-key";
import { decodeFrameInto } from "./frame";

/** SHA-256 digests are this long. */
export const DIGEST_BYTES = 32;

/**
 * Decode some stored frames into raw blocks and take each block's SHA-256 while it is in cache. Runs on a
 * worker thread for big batches and on the main thread for small ones. The frames and blocks are shared
 * memory, used in place by the worker: only offsets go over, and only digests come back.
 */
export interface DecodeJob {
  /** The frames, back to back. */
  frames: SharedArrayBuffer;
  /** Where each frame ends in `frames`. */
  frameEnds: Uint32Array;
  /** Memory for the raw blocks, back to back. */
  blocks: SharedArrayBuffer;
  /** Where each block ends in `blocks`: the sizes the frames' headers state. */
  blockEnds: Uint32Array;
  /** The frames are sealed (store/encrypt/): opened here with this data key, each with its block's id. */
  sealed: { key: Uint8Array; ids: string[] } | null;
}

export interface DecodeResult {
  /** DIGEST_BYTES per decoded block, in order. */
  digests: Uint8Array;
  /** Blocks decoded: all of them, or those before the first that failed to decode. */
  decoded: number;
}

export function runDecodeJob({ frames, frameEnds, blocks, blockEnds, sealed }: DecodeJob): DecodeResult {
  const count = frameEnds.length;
  const digests = new Uint8Array(count * DIGEST_BYTES);
  const key = sealed && SealingKey.of(Buffer.from(sealed.key));
  let decoded = 0;
  for (; decoded < count; decoded++) {
    const frameStart = decoded === 0 ? 0 : frameEnds[decoded - 1];
    const blockStart = decoded === 0 ? 0 : blockEnds[decoded - 1];
    const block = new Uint8Array(blocks, blockStart, blockEnds[decoded] - blockStart);
    const stored = new Uint8Array(frames, frameStart, frameEnds[decoded] - frameStart);
    // A frame that fails authentication or decoding is done again by the main thread, which reports it as it always has.
    const frame = key ? key.open("block", sealed.ids[decoded], stored) : stored;
    if (!frame) break;
    try {
      decodeFrameInto(frame, block);
    } catch {
      break;
    }
    digests.set(createHash("sha256").update(block).digest(), decoded * DIGEST_BYTES);
  }
  return { digests, decoded };
}

/** Nothing moves: the memory is shared, and the rest is small enough to copy. */
export const transfers = (): ArrayBuffer[] => [];
