import type { Chunk } from "../disks/block-reader";
import type { BufferPool } from "../workers/buffer-pool";
import type { Capture, Extent } from "./tracker";

/**
 * Chunks kept in flight. A chunk is one read of a contiguous run, or the reads of many scattered runs sent
 * at once (a tracker's changed blocks are rarely neighbours): either way the socket stays busy while the
 * caller hashes the chunk before.
 */
const CHUNKS_IN_FLIGHT = 2;

interface Run {
  first: number;
  end: number;
}

/** Runs of whole blocks [first, end) covering the extents, merged where they touch, each at most `maxBlocks` long. */
export function blockRuns(extents: Extent[], blockSize: number, size: number, maxBlocks: number): Run[] {
  const blocks = Math.ceil(size / blockSize);
  const runs: Run[] = [];
  for (const { offset, length } of extents) {
    if (length <= 0) continue;
    const first = Math.floor(offset / blockSize);
    const end = Math.min(blocks, Math.ceil((offset + length) / blockSize));
    const last = runs.at(-1);
    if (last && first <= last.end) last.end = Math.max(last.end, end);
    else if (first < end) runs.push({ first, end });
  }
  return runs.flatMap(({ first, end }) => {
    const pieces = [];
    for (let at = first; at < end; at += maxBlocks) pieces.push({ first: at, end: Math.min(end, at + maxBlocks) });
    return pieces;
  });
}

/** Runs grouped so each group fills at most one chunk of `maxBlocks` blocks, in order. */
function groups(runs: Run[], maxBlocks: number): Run[][] {
  const out: Run[][] = [];
  let blocks = maxBlocks;
  for (const run of runs) {
    const length = run.end - run.first;
    if (blocks + length > maxBlocks) {
      out.push([]);
      blocks = 0;
    }
    out.at(-1)!.push(run);
    blocks += length;
  }
  return out;
}

/**
 * The blocks of a point-in-time view that cover `extents` (the whole view when undefined), as chunks of whole
 * blocks in disk order, read into the pool's memory. Scattered runs are gathered into one chunk (with each
 * block's index), their reads all in flight together.
 */
export async function* viewChunks(view: Capture, extents: Extent[] | undefined, blockSize: number, buffers: BufferPool): AsyncGenerator<Chunk> {
  if (buffers.size % blockSize !== 0) throw new RangeError(`reads of ${buffers.size} bytes do not hold whole ${blockSize}-byte blocks`);
  const maxBlocks = buffers.size / blockSize;
  const chunks = groups(blockRuns(extents ?? [{ offset: 0, length: view.size }], blockSize, view.size, maxBlocks), maxBlocks);
  const read = async (runs: Run[]): Promise<Chunk> => {
    const data = Buffer.from(buffers.take());
    let at = 0;
    const reads: Promise<Buffer>[] = [];
    for (const { first, end } of runs) {
      const length = Math.min(end * blockSize, view.size) - first * blockSize;
      reads.push(view.read(first * blockSize, length, data.subarray(at, at + length)));
      at += length;
    }
    await Promise.all(reads);
    const chunk: Chunk = { first: runs[0].first, data: data.subarray(0, at) };
    if (runs.length > 1) chunk.indexes = runs.flatMap(({ first, end }) => Array.from({ length: end - first }, (_, n) => first + n));
    return chunk;
  };
  const inFlight: Array<Promise<Chunk>> = [];
  const start = (n: number) => {
    if (n >= chunks.length) return;
    const reading = read(chunks[n]);
    reading.catch(() => undefined); // thrown when the caller gets to it, not reported as unhandled before
    inFlight.push(reading);
  };
  let next = 0;
  try {
    while (next < Math.min(CHUNKS_IN_FLIGHT, chunks.length)) start(next++);
    while (inFlight.length) {
      const chunk = await inFlight.shift()!;
      start(next++); // before the yield: the caller may transfer the chunk's memory away
      yield chunk;
    }
  } finally {
    // Reads left running when the caller stops must end before the view is closed under them.
    await Promise.all(inFlight.map((r) => r.catch(() => undefined)));
  }
}
