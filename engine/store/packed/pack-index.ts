/** Where a block lives: a byte range of a pack file. */
export interface BlockLocation {
  pack: string;
  offset: number;
  length: number;
}

export interface IndexEntry extends BlockLocation {
  id: string;
}

/** The block → pack index; the catalog implements it so that it commits with the vault's metadata. */
export interface PackIndex {
  lookup(id: string): Promise<BlockLocation | undefined>;
  /** The locations of those ids that are present. */
  lookupMany(ids: string[]): Promise<IndexEntry[]>;
  /** Look these up ahead of single lookups (see BlockStore.prefetch); optional. */
  prefetch?(ids: string[]): Promise<void>;
  /** Insert or move entries. */
  add(entries: IndexEntry[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  all(): Promise<IndexEntry[]>;
  totals(): Promise<{ blocks: number; bytes: number }>;
}

/**
 * An index kept in a catalog with transactions (`Tx`, the catalog's own, opaque to the store): entries
 * added through `within(trx)` commit or roll back with trx, so the blocks of an agent's packs are indexed
 * in the same transaction as the points that use them.
 */
export interface TransactionalPackIndex<Tx> extends PackIndex {
  within(trx: Tx): PackIndex;
}
