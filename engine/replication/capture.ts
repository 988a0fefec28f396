import type { BlockStore } from "../store/block-store";
import { blocksOf, chunkEnd, readBlocks, readChunks, type Chunk } from "../disks/block-reader";
import { BlockAddresser } from "../disks/block-addresser";
import type { BufferPool } from "../workers/buffer-pool";
import { addressedBlock, type AddressedBlock, type AddressResult } from "../disks/address-job";
import { changeHash, isZero } from "../disks/hashing";
import { blockId } from "../store/block-id";
import { BlockMap, ZERO_ID } from "./block-map";

/**
 * delta:  trust the previous map; only blocks whose change hash differs are addressed and shipped.
 * full:   address every block and ship what the store lacks (initial replication).
 * verify: like full, and also check each stored copy the replica relies on; re-ship damaged or missing
 *         ones (resync). Compares fixed-block checksums of source and replica.
 */
export type CaptureMode = "delta" | "full" | "verify";

export interface CaptureResult {
  map: BlockMap;
  bytesRead: number;
  /** Blocks whose content differs from the previous map. */
  blocksChanged: number;
  /** Bytes added to the store (after compression). */
  bytesStored: number;
  /** verify: ids whose stored copy was damaged or missing and has been written again. */
  repaired: string[];
}

export interface CaptureOptions {
  mode: CaptureMode;
  blockSize: number;
  /** verify: ids already checked (shared across the disks of one resync so each copy is read once). */
  verified?: Set<string>;
  /** Bytes read so far, of the disk's size. */
  onProgress?: (bytesDone: number, size: number) => void;
}

/**
 * Reads being addressed while the main thread stores the one before them: one per worker on two cores.
 * 4 was no faster on 1 GiB and held ~40 MiB more.
 */
const READS_IN_FLIGHT = 2;
/** Progress is reported every this many blocks (16 MiB of 64 KiB blocks). */
const PROGRESS_BLOCKS = 256;

/**
 * Where a capture's blocks come from: chunks of whole blocks, read into memory of the given pool, in disk
 * order. A source may leave blocks out (a change tracker's unchanged ones): they keep the previous map's entry.
 */
export type ChunkSource = (buffers: BufferPool) => AsyncIterable<Chunk>;

/** Capture a disk file or block device, reading all of it. */
export async function captureDisk(path: string, size: number, previous: BlockMap | null, store: BlockStore, options: CaptureOptions): Promise<CaptureResult> {
  return captureChunks((buffers) => readChunks(path, size, options.blockSize, buffers), size, previous, store, options);
}

/** Capture from a source of chunks; with no previous map the source must cover the whole disk. */
export async function captureChunks(
  source: ChunkSource,
  size: number,
  previous: BlockMap | null,
  store: BlockStore,
  options: CaptureOptions,
): Promise<CaptureResult> {
  return new DiskCapture(size, previous, store, options).run(source);
}

/** The blocks of one read that need addressing, on their way to the store: addressed already, or by a worker. */
interface PendingBatch {
  first: number;
  indexes?: number[];
  addressed: AddressResult | Promise<AddressResult>;
}

/** Batches waiting behind the first are stored when more than READS_IN_FLIGHT wait; an addressed first one, at once. */
const mustStore = (pending: PendingBatch[]) => pending.length > READS_IN_FLIGHT || (pending.length > 0 && !(pending[0].addressed instanceof Promise));

/**
 * One capture. The main thread reads, computes change hashes, finds zero blocks and stores; the blocks to
 * address go, a read at a time, to a BlockAddresser (worker threads for big batches), a few reads ahead,
 * and are stored in disk order as their ids come back.
 */
class DiskCapture {
  private readonly mode: CaptureMode;
  private readonly blockSize: number;
  private readonly base: BlockMap;
  /** Blocks the previous map knows about. */
  private readonly known: number;
  private readonly verified: Set<string>;
  private readonly result: CaptureResult;
  private readonly addresser: BlockAddresser;

  constructor(
    private readonly size: number,
    previous: BlockMap | null,
    private readonly store: BlockStore,
    private readonly options: CaptureOptions,
  ) {
    this.blockSize = options.blockSize;
    this.mode = previous ? options.mode : options.mode === "delta" ? "full" : options.mode;
    this.base = previous ? (previous.size === size ? previous : previous.resized(size)) : BlockMap.empty(size, this.blockSize);
    this.known = previous ? Math.min(previous.count, this.base.count) : 0;
    this.verified = options.verified ?? new Set<string>();
    const map = new BlockMap(size, this.blockSize, Buffer.from(this.base.ids), new BigUint64Array(this.base.hashes));
    this.result = { map, bytesRead: 0, blocksChanged: 0, bytesStored: 0, repaired: [] };
    // verify ships only damaged or missing blocks: frames encoded ahead would mostly be thrown away.
    this.addresser = new BlockAddresser(this.blockSize, this.mode === "verify" ? undefined : store.frameLevel?.(), store.sealingKey?.());
  }

  async run(source: ChunkSource): Promise<CaptureResult> {
    const pending: PendingBatch[] = [];
    for await (const chunk of source(this.addresser.reads)) {
      const end = chunkEnd(chunk, this.blockSize); // before scan sends the memory away
      const batch = this.scan(chunk);
      if (batch) pending.push(batch);
      while (mustStore(pending)) await this.storeBatch(pending.shift()!);
      if (Math.floor(end / PROGRESS_BLOCKS) > Math.floor(chunk.first / PROGRESS_BLOCKS)) this.options.onProgress?.(this.result.bytesRead, this.size);
    }
    for (const batch of pending.splice(0)) await this.storeBatch(batch);
    this.options.onProgress?.(this.result.bytesRead, this.size);
    return this.result;
  }

  /** Change hashes and zero blocks of one read; what is left to address is sent off with the read's memory. */
  private scan(chunk: Chunk): PendingBatch | null {
    const { map } = this.result;
    const spans: number[] = [];
    for (const { index, data } of blocksOf(chunk, this.blockSize)) {
      this.result.bytesRead += data.length;
      const hash = changeHash(data);
      const unchanged = index < this.known && hash === map.hashes[index];
      map.hashes[index] = hash;
      if (this.mode === "delta" && unchanged) continue;
      if (isZero(data)) this.assign(index, ZERO_ID);
      else spans.push(data.byteOffset - chunk.data.byteOffset, data.length);
    }
    if (spans.length === 0) {
      this.addresser.reads.give(chunk.data.buffer);
      return null;
    }
    const addressed = this.addresser.address(chunk.data, spans);
    if (addressed instanceof Promise) addressed.catch(() => undefined); // when storing fails first, this batch is dropped, not reported as unhandled
    return { first: chunk.first, indexes: chunk.indexes, addressed };
  }

  private async storeBatch({ first, indexes, addressed }: PendingBatch): Promise<void> {
    const batch = await addressed;
    const blocks: Array<{ index: number; block: AddressedBlock }> = [];
    for (let n = 0; n < batch.spans.length / 2; n++) {
      const block = addressedBlock(batch, n);
      const index = indexes ? indexes[block.offset / this.blockSize] : first + block.offset / this.blockSize;
      this.assign(index, block.id);
      blocks.push({ index, block });
    }
    await this.store.prefetch?.(blocks.map(({ block }) => block.id.toString("hex")));
    if (this.mode === "verify") {
      await this.verify(blocks);
    } else {
      for (const { block } of blocks)
        this.result.bytesStored += await this.store.put(block.id.toString("hex"), block.data, { frame: block.frame, sealed: block.sealed });
    }
    this.addresser.release(batch);
  }

  private assign(index: number, id: Buffer): void {
    if (index >= this.known || !id.equals(this.base.id(index))) this.result.blocksChanged++;
    this.result.map.setId(index, id);
  }

  /** Ship the blocks whose stored copy is missing or damaged, checking each id's copy once per resync. */
  private async verify(blocks: Array<{ index: number; block: AddressedBlock }>): Promise<void> {
    const { store, result } = this;
    const unchecked: Array<{ index: number; block: AddressedBlock; hex: string; present: boolean }> = [];
    for (const { index, block } of blocks) {
      const hex = block.id.toString("hex");
      if (this.verified.has(hex)) continue;
      this.verified.add(hex);
      unchecked.push({ index, block, hex, present: await store.has(hex) });
    }
    const intact = await this.intactCopies(unchecked.filter((b) => b.present).map((b) => b.hex));
    for (const { index, block, hex, present } of unchecked) {
      if (intact.has(hex)) continue;
      result.bytesStored += await store.put(hex, block.data, { replace: present, frame: block.frame, sealed: block.sealed });
      // A copy that was there but damaged, or one the replica relied on and lost, is a repair.
      if (present || (index < this.known && block.id.equals(this.base.id(index)))) result.repaired.push(hex);
    }
  }

  /**
   * The ids whose stored copy reads back and hashes to its id. The copies are read in one go (the store's
   * fastest order) and hashed like source blocks; one unreadable or undecodable copy fails that read, and
   * the copies not read by then are checked one by one.
   */
  private async intactCopies(ids: string[]): Promise<Set<string>> {
    const copies = new Map<string, Buffer>();
    const intact = new Set<string>();
    if (ids.length === 0) return intact;
    try {
      for await (const { id, data } of this.store.getMany(ids)) copies.set(id, data);
    } catch {
      for (const id of ids) if (!copies.has(id) && (await isIntact(this.store, id))) intact.add(id);
    }
    const whole = [...copies].filter(([, data]) => data.length <= this.blockSize); // a longer copy is damaged
    const hashes = await this.addresser.idsOf(whole.map(([, data]) => data));
    for (const [n, [id]] of whole.entries()) if (hashes[n] === id) intact.add(id);
    return intact;
  }
}

/** A stored copy is intact when it reads back and hashes to its id. */
export async function isIntact(store: BlockStore, id: string): Promise<boolean> {
  try {
    return blockId(await store.get(id)).toString("hex") === id;
  } catch {
    return false;
  }
}

/** Bytes of a disk that differ from a map, by change hash only: the change data a failed cycle left pending. */
export async function pendingBytes(path: string, size: number, previous: BlockMap): Promise<number> {
  let pending = 0;
  for await (const { index, data } of readBlocks(path, size, previous.blockSize)) {
    if (index >= previous.count || changeHash(data) !== previous.hashes[index]) pending += data.length;
  }
  return pending;
}
