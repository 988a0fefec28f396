import { decompress } from "zstd-napi";
import { CCtx, compressBound } from "zstd-napi/binding";
import { EngineError } from "../../errors";

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

/**
 * Encode `data` into `target` at `offset`, which must have frameBound(data.length) bytes free; a block
 * that does not shrink is kept raw. Returns the frame's length.
 */
export function encodeFrameInto(data: Uint8Array, level: number, target: Buffer, offset: number): number {
  context ??= new CCtx();
  const packed = context.compress(target.subarray(offset + 1, offset + frameBound(data.length)), data, level);
  if (packed < data.length) {
    target[offset] = ZSTD;
    return 1 + packed;
  }
  target[offset] = RAW;
  target.set(data, offset + 1);
  return 1 + data.length;
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
      throw new EngineError("BlockDamaged", `block ${id} cannot be decompressed: ${(error as Error).message}`, false);
    }
  }
  throw new EngineError("BlockDamaged", `block ${id} has an unknown codec ${frame[0]}`, false);
}
