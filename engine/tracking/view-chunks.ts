import type { Chunk } from "../disks/block-reader";
import type { BufferPool } from "../workers/buffer-pool";
import type { Capture, Extent } from "./tracker";

/**
 * Reads kept in flight: each is a few NBD requests already (the server's maximum request is 32 MiB on QEMU,
 * a chunk 4 MiB), so two keep the socket busy while the caller hashes the one before.
 */
const READS_IN_FLIGHT = 2;

/** Runs of whole blocks [first, end) covering the extents, merged where they touch, each at most `maxBlocks` long. */
export function blockRuns(extents: Extent[], blockSize: number, size: number, maxBlocks: number): Array<{ first: number; end: number }> {
  const blocks = Math.ceil(size / blockSize);
  const runs: Array<{ first: number; end: number }> = [];
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

/**
 * The blocks of a point-in-time view that cover `extents` (the whole view when undefined), as chunks of
 * whole blocks in disk order, read into the pool's memory with a few reads in flight.
 */
export async function* viewChunks(view: Capture, extents: Extent[] | undefined, blockSize: number, buffers: BufferPool): AsyncGenerator<Chunk> {
  if (buffers.size % blockSize !== 0) throw new RangeError(`reads of ${buffers.size} bytes do not hold whole ${blockSize}-byte blocks`);
  const runs = blockRuns(extents ?? [{ offset: 0, length: view.size }], blockSize, view.size, buffers.size / blockSize);
  const read = async ({ first, end }: { first: number; end: number }) => {
    const offset = first * blockSize;
    const length = Math.min(end * blockSize, view.size) - offset;
    const data = Buffer.from(buffers.take());
    await view.read(offset, length, data);
    return { first, data: data.subarray(0, length) };
  };
  const inFlight: Array<Promise<Chunk>> = [];
  const start = (n: number) => {
    if (n >= runs.length) return;
    const reading = read(runs[n]);
    reading.catch(() => undefined); // thrown when the caller gets to it, not reported as unhandled before
    inFlight.push(reading);
  };
  let next = 0;
  try {
    while (next < Math.min(READS_IN_FLIGHT, runs.length)) start(next++);
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
