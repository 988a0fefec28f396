import type { SealingKey } from "./encrypt/sealing-key";
import type { StoreStats } from "../../schema";

/**
 * Content-addressed block storage used by replication. Ids are SHA-256 hex of the block's raw bytes
 * (store/block-id.ts). `put` may buffer; data is durable only after `flush` resolves, so callers flush
 * before recording anything that references the blocks. Every stack and wrapper passes the conformance
 * suite in test/conformance/block-store-suite.ts, which tests each clause below.
 */
export interface BlockStore {
  /** Whether the block is in the store: true from its put on (buffered blocks count), false after a failed write. */
  has(id: string): Promise<boolean>;
  /**
   * Store a block; resolves to the bytes it adds to the store (0 when already present: a block is stored
   * once, however often it is put). With replace, the block is written without asking whether it is
   * present (repairing a damaged copy, or when the caller has just asked); its new copy takes the old
   * one's place. A write that fails (here or at the flush) stores nothing: the block is not in the store
   * afterwards unless it was before. The store keeps no reference to data.
   */
  put(id: string, data: Buffer, options?: PutOptions): Promise<number>;
  /**
   * The zstd level of a compressing layer that takes blocks encoded ahead (PutOptions.frame); undefined
   * when nothing in the stack compresses, so callers need not encode.
   */
  frameLevel?(): number | undefined;
  /**
   * The key of a sealing layer (store/encrypt/) below the compressing one, so workers that encode frames
   * ahead seal them too (PutOptions.sealed); undefined when nothing in the stack seals.
   */
  sealingKey?(): SealingKey | undefined;
  /** Make every block put so far durable; rejects when a write failed (once), and the store works on after it. */
  flush(): Promise<void>;
  /**
   * A hint: these blocks are about to be asked about (has/put), so a store whose index is far away
   * (an agent's, over HTTP) can look them all up at once.
   */
  prefetch?(ids: string[]): Promise<void>;
  /** The block's raw bytes, exactly as put (buffered or flushed); a missing block rejects with BlockMissing. */
  get(id: string): Promise<Buffer>;
  /**
   * Read many blocks in the order the store reads them fastest (pack by pack, neighbours in one read);
   * each id once, however often it is asked. A missing block fails the read with BlockMissing. With `sealed`, a sealing layer hands its blocks out
   * still sealed, for the caller (the compressing layer's decode workers) to open with sealingKey().
   */
  getMany(ids: string[], options?: GetOptions): AsyncIterable<StoredBlock>;
  /** Drop every block not in `live` (flushing first); the live ones stay byte-exact. Returns what was freed. */
  retainOnly(live: Set<string>): Promise<{ blocksDeleted: number; bytesFreed: number }>;
  stats(): Promise<StoreStats>;
  /** Flush, then let go of the backend; what was put is there for the store opened again. */
  close(): Promise<void>;
}

export interface StoredBlock {
  id: string;
  data: Buffer;
}

export interface PutOptions {
  replace?: boolean;
  /**
   * The block already encoded in the compressed stored form (store/compress/frame.ts), e.g. by a worker
   * thread: a compressing layer stores it as is instead of compressing `data`; other layers ignore it.
   * A layer that changes `data` on its way down must drop it.
   */
  frame?: Buffer;
  /**
   * The frame is sealed already, with the store's sealingKey() and the block's id, by the worker that
   * encoded it: the compressing layer passes this on with the frame, and the sealing layer stores it as is.
   */
  sealed?: boolean;
}

export interface GetOptions {
  sealed?: boolean;
}

/** What the store holds and what garbage collection can reclaim (the API's type: schema/responses.ts). */
export type { StoreStats };

/** Wraps a BlockStore; decorators override what they change. */
export abstract class BlockStoreDecorator implements BlockStore {
  constructor(protected readonly inner: BlockStore) {}
  has(id: string) {
    return this.inner.has(id);
  }
  put(id: string, data: Buffer, options?: PutOptions) {
    return this.inner.put(id, data, options);
  }
  frameLevel(): number | undefined {
    return this.inner.frameLevel?.();
  }
  sealingKey(): SealingKey | undefined {
    return this.inner.sealingKey?.();
  }
  flush() {
    return this.inner.flush();
  }
  async prefetch(ids: string[]): Promise<void> {
    await this.inner.prefetch?.(ids);
  }
  get(id: string) {
    return this.inner.get(id);
  }
  getMany(ids: string[], options?: GetOptions) {
    return this.inner.getMany(ids, options);
  }
  retainOnly(live: Set<string>) {
    return this.inner.retainOnly(live);
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
}
