import type { Backend } from "./backend";
import type { BlockStore } from "./block-store";
import { CompressingBlockStore } from "./compress/compressing-block-store";
import type { SealingKey } from "./encrypt/sealing-key";
import { EncryptingBlockStore } from "./encrypt/encrypting-block-store";
import type { PackIndex, TransactionalPackIndex } from "./packed/pack-index";
import { PackedBlockStore } from "./packed/packed-block-store";
import { SharedPacks } from "./packed/shared-packs";

/**
 * The store's layers, from the bottom: packs on a backend, located through an index; blocks sealed with
 * the vault's data key above (when the vault is encrypted); zstd frames above that, since ciphertext does
 * not compress. The engine and agents on other hosts build the same stack (with different indexes), so
 * either can read what the other wrote.
 */
export function blockStoreOn(backend: Backend, index: PackIndex, key: SealingKey | undefined): BlockStore {
  const packed = new PackedBlockStore(backend, index);
  return new CompressingBlockStore(key ? new EncryptingBlockStore(packed, key) : packed);
}

/**
 * The engine's store: the block stack, and the packs as agents share them (SharedPacks), on one backend
 * and one index. Callers reach blocks only through these two, never the backend or the index.
 */
export function vaultStoreOn<Tx>(
  backend: Backend,
  index: TransactionalPackIndex<Tx>,
  key: SealingKey | undefined,
): { blocks: BlockStore; packs: SharedPacks<Tx> } {
  return { blocks: blockStoreOn(backend, index, key), packs: new SharedPacks(backend, index) };
}
