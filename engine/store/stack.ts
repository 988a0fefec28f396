import type { Backend } from "./backend";
import type { BlockStore } from "./block-store";
import { CompressingBlockStore } from "./compress/compressing-block-store";
import type { PackIndex } from "./packed/pack-index";
import { PackedBlockStore } from "./packed/packed-block-store";

/**
 * The store's layers, from the bottom: packs on a backend, located through an index; zstd frames above.
 * The engine and agents on other hosts build the same stack (with different indexes), so either can
 * read what the other wrote.
 */
export function blockStoreOn(backend: Backend, index: PackIndex): BlockStore {
  return new CompressingBlockStore(new PackedBlockStore(backend, index));
}
