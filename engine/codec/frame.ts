import { decompress } from "zstd-napi";
import { CCtx, DCtx, compressBound, getFrameContentSize } from "zstd-napi/binding";
import { EngineError } from "../errors";

/**
 * The stored form of a block: one codec byte, then the payload. Shared by the compressing store and the
 * capture workers that encode blocks ahead, so both write the same format.
 */
const RAW = 0;
const ZSTD = 1;

/** The most bytes encoding a block of `length` bytes may use, including zstd's own worst case. */
export const frameBound = (length: number): number => 1 + compressBound(length);

/** One compression context per thread, reused: making one costs more than compressing a block. */
let context: CCtx | undefined;
let decoding: DCtx | undefined;

/**
 * Encode `data` into `target` at `offset`, which must have frameBound(data.length) bytes free; a block
 * that does not shrink is kept raw. Returns the frame's length.
 */
export function encodeFrameInto(data: Uint8Array, level: number, target: Buffer, offset: number): number {
  const packed = compressFrameInto(data, level, target, offset);
  if (packed > 0) return packed;
  target[offset] = RAW;
  target.set(data, offset + 1);
  return 1 + data.length;
}

/** A compressed frame of `data` into `target` at `offset` (as encodeFrameInto); 0, and nothing meant, when it does not shrink. */
function compressFrameInto(data: Uint8Array, level: number, target: Buffer, offset: number): number {
  context ??= new CCtx();
  const packed = context.compress(target.subarray(offset + 1, offset + frameBound(data.length)), data, level);
  if (packed >= data.length) return 0;
  target[offset] = ZSTD;
  return 1 + packed;
}

const RAW_CODEC = Uint8Array.of(RAW);

/**
 * The frame of `data` as the pieces it is made of, for a consumer that copies them anyway (sealing does):
 * a compressed frame encoded into `scratch` (frameBound(data.length) bytes), or the raw codec byte and
 * `data` itself, which is not copied.
 */
export function frameParts(data: Uint8Array, level: number, scratch: Buffer): Uint8Array[] {
  const packed = compressFrameInto(data, level, scratch, 0);
  return packed > 0 ? [scratch.subarray(0, packed)] : [RAW_CODEC, data];
}

export function encodeFrame(data: Uint8Array, level: number): Buffer {
  const frame = Buffer.allocUnsafe(frameBound(data.length));
  return frame.subarray(0, encodeFrameInto(data, level, frame, 0));
}

/** The raw bytes of a stored block; a frame that cannot be decoded is damage, not an I/O error. */
export function decodeFrame(id: string, frame: Buffer): Buffer {
  const body = frame.subarray(1);
  if (frame[0] === RAW) return body;
  if (frame[0] === ZSTD) {
    try {
      return decompress(body);
    } catch (error) {
      throw new EngineError("BlockDamaged", `block ${id} cannot be decompressed: ${(error as Error).message}`);
    }
  }
  throw new EngineError("BlockDamaged", `block ${id} has an unknown codec ${frame[0]}`);
}

/**
 * A decoded frame larger than this is left to decodeFrame: the size comes from the frame's own header,
 * which damage can inflate, and blocks are far smaller.
 */
const LARGEST_BLOCK = 64 * 1024 * 1024;

/**
 * The size of the block a frame holds, as its header states it; undefined for a frame that does not say
 * (or says too much, or has an unknown codec), which decodeFrame handles and judges.
 */
export function decodedSize(frame: Uint8Array): number | undefined {
  return decodedSizeOf(frame, frame.length);
}

/** Bytes of a frame's start that state its block's size: the codec byte and zstd's largest frame header. */
export const FRAME_HEAD_BYTES = 1 + 18;

/** decodedSize from a frame's first FRAME_HEAD_BYTES (or all of a shorter frame) and its length. */
export function decodedSizeOf(head: Uint8Array, frameLength: number): number | undefined {
  if (head[0] === RAW) return frameLength - 1;
  if (head[0] !== ZSTD) return undefined;
  let size: number | null;
  try {
    size = getFrameContentSize(head.subarray(1));
  } catch {
    return undefined;
  }
  return size !== null && size <= LARGEST_BLOCK ? size : undefined;
}

/** The block a frame keeps raw (a view into the frame), or undefined for a compressed or unknown one. */
export function rawBlock(frame: Uint8Array): Uint8Array | undefined {
  return frame[0] === RAW ? frame.subarray(1) : undefined;
}

/** Decode a frame into `target`, which must be decodedSize(frame) bytes; throws when it does not decode to exactly that. */
export function decodeFrameInto(frame: Uint8Array, target: Uint8Array): void {
  const body = frame.subarray(1);
  if (frame[0] !== RAW && frame[0] !== ZSTD) throw new Error(`unknown codec ${frame[0]}`);
  const length = frame[0] === RAW ? body.length : (decoding ??= new DCtx()).decompress(target, body);
  if (length !== target.length) throw new Error(`decoded ${length} bytes where the frame promised ${target.length}`);
  if (frame[0] === RAW) target.set(body);
}
