import type { BlockLocation, IndexEntry, PackIndex, TransactionalPackIndex } from "../store/packed/pack-index";
import type { Kysely, Transaction } from "kysely";
import type { Tables } from "./tables";
import type { CatalogDb } from "./catalog";
import type { Db } from "./db";
import { batches, inBatches } from "./batch";

/** Insert block locations, moving a block already indexed to its new copy (written again: a repair). */
async function addIndexEntries(db: Db, entries: IndexEntry[]): Promise<void> {
  // Four bound variables per entry (id, pack, offset, length).
  for (const batch of batches(entries, 4)) {
    await db
      .insertInto("blocks")
      .values(batch)
      .onConflict((oc) =>
        oc.column("id").doUpdateSet((eb) => ({ pack: eb.ref("excluded.pack"), offset: eb.ref("excluded.offset"), length: eb.ref("excluded.length") })),
      )
      .execute();
  }
}

/**
 * The block index as a catalog table, so block locations commit with the rest of the vault's metadata.
 * The only code that touches the `blocks` table.
 */
export class SqlPackIndex implements TransactionalPackIndex<Transaction<Tables>> {
  /**
   * Locations (null: absent) found by the last prefetch, for the single lookups that follow it: a query
   * per block cost ~30 µs, a third of the main thread's work in initial replication. Any change of the
   * index drops them, and each answers one lookup, so none answers from long before.
   */
  private prefetched = new Map<string, BlockLocation | null>();

  constructor(private readonly db: CatalogDb) {}

  /** The index inside a transaction of the catalog: what is added through it commits with trx. */
  within(trx: Transaction<Tables>): PackIndex {
    return new SqlPackIndex(trx);
  }

  async lookup(id: string): Promise<BlockLocation | undefined> {
    const known = this.prefetched.get(id);
    if (known !== undefined) {
      this.prefetched.delete(id); // answered once: a later lookup asks the catalog again
      return known ?? undefined;
    }
    return this.db.selectFrom("blocks").select(["pack", "offset", "length"]).where("id", "=", id).executeTakeFirst();
  }

  async lookupMany(ids: string[]): Promise<IndexEntry[]> {
    return inBatches(ids, (batch) => this.db.selectFrom("blocks").selectAll().where("id", "in", batch).execute());
  }

  async prefetch(ids: string[]): Promise<void> {
    const prefetched = new Map<string, BlockLocation | null>(ids.map((id) => [id, null]));
    for (const { id, ...at } of await this.lookupMany([...prefetched.keys()])) prefetched.set(id, at);
    this.prefetched = prefetched;
  }

  /** Run a change in one transaction: the one this index is within, else a new one. */
  private change(apply: (db: Kysely<Tables>) => Promise<void>): Promise<void> {
    this.prefetched = new Map();
    return this.db.isTransaction ? apply(this.db) : this.db.transaction().execute(apply);
  }

  add(entries: IndexEntry[]): Promise<void> {
    return this.change((db) => addIndexEntries(db, entries));
  }

  remove(ids: string[]): Promise<void> {
    return this.change(async (trx) => {
      for (const batch of batches(ids)) await trx.deleteFrom("blocks").where("id", "in", batch).execute();
    });
  }

  all(): Promise<IndexEntry[]> {
    return this.db.selectFrom("blocks").selectAll().execute();
  }

  async totals(): Promise<{ blocks: number; bytes: number }> {
    const row = await this.db
      .selectFrom("blocks")
      .select((eb) => [eb.fn.countAll<number>().as("blocks"), eb.fn.coalesce(eb.fn.sum<number>("length"), eb.lit(0)).as("bytes")])
      .executeTakeFirstOrThrow();
    return { blocks: Number(row.blocks), bytes: Number(row.bytes) };
  }
}
