import { BlockStoreDecorator, type BlockStore, type GetOptions, type PutOptions, type StoredBlock } from "../block-store";
import { EngineError } from "../../errors";
import type { SealingKey } from "./sealing-key";

/**
 * Seals every block with the vault's data key (see data-key.ts) on its way into the store and opens it on
 * the way out. It sits below compression: it gets zstd frames (or frames a capture worker encoded ahead,
 * which the compressing layer passes down as the data, sealed by the worker too) and seals them as they
 * are. A block that fails
 * authentication (a flipped byte, a block swapped for another, another vault's key) is damage.
 */
export class EncryptingBlockStore extends BlockStoreDecorator {
  constructor(
    inner: BlockStore,
    private readonly key: SealingKey,
  ) {
    super(inner);
  }

  override sealingKey(): SealingKey {
    return this.key;
  }

  /** A frame a capture worker sealed (PutOptions.sealed) is stored as it is. */
  override async put(id: string, data: Buffer, options: PutOptions = {}): Promise<number> {
    if (!options.replace && (await this.inner.has(id))) return 0; // sealing what dedupes away is wasted
    return this.inner.put(id, options.sealed ? data : this.key.seal("block", id, data), { replace: true }); // presence was just checked
  }

  override async get(id: string): Promise<Buffer> {
    return openBlock(this.key, id, await this.inner.get(id));
  }

  /** With `sealed`, the blocks go up as stored, for the compressing layer's decode workers to open. */
  override async *getMany(ids: string[], options: GetOptions = {}): AsyncIterable<StoredBlock> {
    if (options.sealed) return yield* this.inner.getMany(ids);
    for await (const { id, data } of this.inner.getMany(ids)) yield { id, data: openBlock(this.key, id, data) };
  }
}

/** A stored block's plaintext (its frame); one that fails authentication is damage. */
export function openBlock(key: SealingKey, id: string, sealed: Uint8Array): Buffer {
  const plain = key.open("block", id, sealed);
  if (!plain) throw new EngineError("BlockDamaged", `block ${id} fails authentication: it is damaged in the store, or is not the block stored under this id`);
  return plain;
}
