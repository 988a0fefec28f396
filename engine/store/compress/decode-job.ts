import { SealingKey } from "../encrypt/sealing-key";
import { decodeFrameInto, rawBlock } from "../../codec/frame";
import { BLOCK_ID_BYTES, blockId } from "../block-id";

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
  /** BLOCK_ID_BYTES per decoded block, in order. */
  digests: Uint8Array;
  /** Blocks decoded: all of them, or those before the first that failed to decode. */
  decoded: number;
  /**
   * Sealed frames that keep their block raw, as opened: the block is the frame's bytes after its codec
   * byte, and decrypting it was its copy out of `frames`, so it is not copied again into `blocks` (which
   * leaves that block's place unused). Moved, not copied, to the thread that reads the blocks.
   */
  opened: Array<ArrayBuffer | undefined>;
}

export function runDecodeJob({ frames, frameEnds, blocks, blockEnds, sealed }: DecodeJob): DecodeResult {
  const count = frameEnds.length;
  const digests = new Uint8Array(count * BLOCK_ID_BYTES);
  const key = sealed && SealingKey.of(Buffer.from(sealed.key));
  const opened: Array<ArrayBuffer | undefined> = [];
  let decoded = 0;
  for (; decoded < count; decoded++) {
    const frameStart = decoded === 0 ? 0 : frameEnds[decoded - 1];
    const blockStart = decoded === 0 ? 0 : blockEnds[decoded - 1];
    const block = new Uint8Array(blocks, blockStart, blockEnds[decoded] - blockStart);
    const stored = new Uint8Array(frames, frameStart, frameEnds[decoded] - frameStart);
    // A frame that fails authentication or decoding is done again by the main thread, which reports it as it always has.
    const frame = key ? key.open("block", sealed.ids[decoded], stored) : stored;
    if (!frame) break;
    const own = key && ownMemory(frame);
    const raw = own && rawBlock(frame);
    if (raw && raw.length === block.length) {
      opened[decoded] = own;
      digests.set(blockId(raw), decoded * BLOCK_ID_BYTES);
      continue;
    }
    try {
      decodeFrameInto(frame, block);
    } catch {
      break;
    }
    digests.set(blockId(block), decoded * BLOCK_ID_BYTES);
  }
  return { digests, decoded, opened };
}

/** The memory a Buffer is alone in, which can be moved to another thread; undefined when it shares it. */
function ownMemory(data: Uint8Array): ArrayBuffer | undefined {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : undefined;
}

/** Frames and blocks are shared memory; only frames opened into memory of their own move (DecodeResult.opened). */
export const transfers = (message: DecodeJob | DecodeResult): ArrayBuffer[] =>
  "opened" in message ? message.opened.filter((memory): memory is ArrayBuffer => memory !== undefined) : [];
