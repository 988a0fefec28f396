import type { BlockLocation, IndexEntry, PackIndex, TransactionalPackIndex } from "../store/packed/pack-index";
import type { Kysely, Transaction } from "kysely";
import type { CatalogDb } from "./catalog";
import type { Tables } from "./tables";

const BATCH = 400; // stays under SQLite's bound-variable limit

/** Insert block locations, moving a block already indexed to its new copy (written again: a repair). */
async function addIndexEntries(db: Kysely<Tables>, entries: IndexEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += BATCH) {
    await db
      .insertInto("blocks")
      .values(entries.slice(i, i + BATCH))
      .onConflict((oc) => oc.column("id").doUpdateSet((eb) => ({ pack: eb.ref("excluded.pack"), offset: eb.ref("excluded.offset"), length: eb.ref("excluded.length") })))
      .execute();
  }
}

/**
 * The block index as a catalog table, so block locations commit with the rest of the vault's metadata.
 * The only code that touches the `blocks` table.
 */
export class SqlPackIndex implements TransactionalPackIndex<Transaction<Tables>> {
  constructor(private readonly db: CatalogDb) {}

  /** The index inside a transaction of the catalog: what is added through it commits with trx. */
  within(trx: Transaction<Tables>): PackIndex {
    return new SqlPackIndex(trx);
  }

  async lookup(id: string): Promise<BlockLocation | undefined> {
    return this.db.selectFrom("blocks").select(["pack", "offset", "length"]).where("id", "=", id).executeTakeFirst();
  }

  async lookupMany(ids: string[]): Promise<IndexEntry[]> {
    const found: IndexEntry[] = [];
    for (let i = 0; i < ids.length; i += BATCH) found.push(...(await this.db.selectFrom("blocks").selectAll().where("id", "in", ids.slice(i, i + BATCH)).execute()));
    return found;
  }

  /** Run a change in one transaction: the one this index is within, else a new one. */
  private change(apply: (db: Kysely<Tables>) => Promise<void>): Promise<void> {
    return this.db.isTransaction ? apply(this.db) : this.db.transaction().execute(apply);
  }

  add(entries: IndexEntry[]): Promise<void> {
    return this.change((db) => addIndexEntries(db, entries));
  }

  remove(ids: string[]): Promise<void> {
    return this.change(async (trx) => {
      for (let i = 0; i < ids.length; i += BATCH) await trx.deleteFrom("blocks").where("id", "in", ids.slice(i, i + BATCH)).execute();
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
