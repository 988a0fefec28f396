import { BlockStoreDecorator, type BlockStore, type PutOptions, type StoredBlock } from "../block-store";
import { EngineError } from "../../errors";
import type { SealingKey } from "./sealing-key";

/**
 * Seals every block with the vault's data key (see data-key.ts) on its way into the store and opens it on
 * the way out. It sits below compression: it gets zstd frames (or frames a capture worker encoded ahead,
 * which the compressing layer passes down as the data) and seals them as they are. A block that fails
 * authentication (a flipped byte, a block swapped for another, another vault's key) is damage.
 */
export class EncryptingBlockStore extends BlockStoreDecorator {
  constructor(
    inner: BlockStore,
    private readonly key: SealingKey,
  ) {
    super(inner);
  }

  override async put(id: string, data: Buffer, options: PutOptions = {}): Promise<number> {
    if (!options.replace && (await this.inner.has(id))) return 0; // sealing what dedupes away is wasted
    return this.inner.put(id, this.key.seal("block", id, data), { replace: true }); // presence was just checked
  }

  override async get(id: string): Promise<Buffer> {
    return this.opened(id, await this.inner.get(id));
  }

  override async *getMany(ids: string[]): AsyncIterable<StoredBlock> {
    for await (const { id, data } of this.inner.getMany(ids)) yield { id, data: this.opened(id, data) };
  }

  private opened(id: string, sealed: Buffer): Buffer {
    const plain = this.key.open("block", id, sealed);
    if (!plain) throw new EngineError("BlockDamaged", `block ${id} fails authentication: it is damaged in the store, or is not the block stored under this id`, false);
    return plain;
  }
}
