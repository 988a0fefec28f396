import type { Backend } from "../backend";
import type { IndexEntry, TransactionalPackIndex } from "./pack-index";

/** A pack another writer names that cannot be adopted: not in the backend (size undefined), or shorter than its blocks reach. */
export interface UnfitPack {
  pack: string;
  /** The end of the last block placed in it. */
  end: number;
  size: number | undefined;
}

/**
 * The packed store as writers elsewhere share it: agents on other hosts write packs into the same
 * backend (through their own stack, store/stack.ts) and report where their blocks lie; the engine checks
 * those packs and adopts them, indexing their blocks with the points that use them. Everything an agent's
 * report needs of the store goes through here, so another catalog or backend changes nothing above.
 */
export class SharedPacks<Tx> {
  constructor(
    private readonly backend: Backend,
    private readonly index: TransactionalPackIndex<Tx>,
  ) {}

  /** Where the packs are (Backend.where): agents open their backend on it, messages name it. */
  get where(): string {
    return this.backend.where;
  }

  /** The locations of those blocks the store indexes: agents skip what is there, and read stored copies for resync. */
  locate(ids: string[]): Promise<IndexEntry[]> {
    return this.index.lookupMany(ids);
  }

  /** The packs that do not hold the blocks placed in them (missing, or too short); none when all can be adopted. */
  async unfit(entries: IndexEntry[]): Promise<UnfitPack[]> {
    const ends = new Map<string, number>();
    for (const e of entries) ends.set(e.pack, Math.max(ends.get(e.pack) ?? 0, e.offset + e.length));
    const unfit: UnfitPack[] = [];
    for (const [pack, end] of ends) {
      const size = (await this.backend.stat(pack))?.size;
      if (size === undefined || size < end) unfit.push({ pack, end, size });
    }
    return unfit;
  }

  /**
   * Index blocks another writer put into packs (checked with `unfit` first) inside the catalog's
   * transaction trx: they are the store's once it commits. A block indexed already moves to this copy
   * (written again: a repair, or an entry whose pack was short).
   */
  adopt(entries: IndexEntry[], trx: Tx): Promise<void> {
    return this.index.within(trx).add(entries);
  }
}
