import { promises as fs } from "node:fs";
import { BufferPool } from "../workers/buffer-pool";

export const BLOCK_SIZE = 64 * 1024;
/**
 * 4 MiB per read with one read in flight: reading and hashing 1 GiB took ~500 ms warm at 128 KiB reads,
 * ~155 ms at 1 MiB and ~140 ms at 4 MiB here (async reads pay a thread-pool round trip each).
 */
const READ_SIZE = 64 * BLOCK_SIZE;

/** Bytes per read for a block size: whole blocks, about READ_SIZE. */
export const chunkBytes = (blockSize: number): number => Math.max(blockSize, Math.floor(READ_SIZE / blockSize) * blockSize);

/** Size in bytes of a disk: a regular file's length, or a block device's capacity from sysfs. */
export async function diskSize(path: string): Promise<number> {
  const stat = await fs.stat(path);
  if (stat.isFile()) return stat.size;
  if (stat.isBlockDevice()) {
    const major = Math.floor(stat.rdev / 256) & 0xfff;
    const minor = (stat.rdev & 0xff) | ((stat.rdev >> 12) & 0xfff00);
    const sectors = await fs.readFile(`/sys/dev/block/${major}:${minor}/size`, "utf8");
    return Number(sectors.trim()) * 512;
  }
  throw Object.assign(new Error(`${path} is neither a regular file nor a block device`), { code: "ENODEV" });
}

export interface Block {
  index: number;
  /** A view valid only until the next block is requested: copy it to keep it. */
  data: Buffer;
}

/** One read: whole blocks (the last block of the disk may be short). */
export interface Chunk {
  /** Index of the chunk's first block. */
  first: number;
  /** A view of memory taken from the reader's pool; the caller owns it and gives `data.buffer` back when done. */
  data: Buffer<ArrayBuffer>;
  /**
   * The index of each block in `data`, ascending, when they are not the run from `first` on: the scattered
   * blocks a change tracker lists, gathered into one buffer (`first` is then the first of them).
   */
  indexes?: number[];
}

/** One past the index of a chunk's last block. */
export const chunkEnd = (chunk: Chunk, blockSize: number): number =>
  chunk.indexes ? chunk.indexes[chunk.indexes.length - 1] + 1 : chunk.first + Math.ceil(chunk.data.length / blockSize);

/**
 * Walk a disk in chunks of `buffers.size` bytes (a multiple of the block size) from the start. One read
 * is kept in flight while the caller works on the previous chunk, so hashing overlaps I/O; the caller
 * decides when each chunk's memory may be read into again.
 */
export async function* readChunks(path: string, size: number, blockSize: number, buffers: BufferPool): AsyncGenerator<Chunk> {
  if (buffers.size % blockSize !== 0) throw new RangeError(`reads of ${buffers.size} bytes do not hold whole ${blockSize}-byte blocks`);
  const handle = await fs.open(path, "r");
  const read = async (position: number) => {
    const data = Buffer.from(buffers.take());
    const wanted = Math.min(buffers.size, size - position);
    const { bytesRead } = await handle.read(data, 0, wanted, position);
    // A disk that shrank under us; a short read would also misalign every block after it.
    if (bytesRead < wanted) throw Object.assign(new Error(`${path} ended at ${position + bytesRead} bytes, expected ${size}`), { code: "EIO" });
    return data.subarray(0, bytesRead);
  };
  const readAt = (position: number) => {
    const reading = read(position);
    reading.catch(() => undefined); // a failure is thrown when the caller gets to this read, not reported as unhandled before
    return reading;
  };
  let inFlight: Promise<Buffer<ArrayBuffer>> | null = null;
  try {
    let position = 0;
    inFlight = size > 0 ? readAt(0) : null;
    while (inFlight) {
      const data = await inFlight;
      const next = position + data.length; // before the yield: the caller may transfer data's memory away
      inFlight = next < size ? readAt(next) : null;
      yield { first: position / blockSize, data };
      position = next;
    }
  } finally {
    await inFlight?.catch(() => undefined); // a read left running when the caller stops must not outlive the handle
    await handle.close();
  }
}

/** The blocks of a chunk, as views of its memory. */
export function* blocksOf({ first, data, indexes }: Chunk, blockSize: number): Generator<Block> {
  for (let offset = 0, n = 0; offset < data.length; offset += blockSize, n++) {
    yield { index: indexes ? indexes[n] : first + n, data: data.subarray(offset, Math.min(offset + blockSize, data.length)) };
  }
}

/** Walk a disk block by block, with one read in flight (two buffers in turn). */
export async function* readBlocks(path: string, size: number, blockSize = BLOCK_SIZE): AsyncGenerator<Block> {
  const buffers = new BufferPool(chunkBytes(blockSize));
  for await (const chunk of readChunks(path, size, blockSize, buffers)) {
    yield* blocksOf(chunk, blockSize);
    buffers.give(chunk.data.buffer);
  }
}
