import type { Db } from "./db";

/** The vault's key-value settings (registration key state, verify schedule). */

export async function metaValue(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst())?.value;
}

export async function allMeta(db: Db): Promise<Array<{ key: string; value: string }>> {
  return db.selectFrom("meta").selectAll().execute();
}

export async function setMetaValue(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto("meta")
    .values({ key, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

export async function deleteMeta(db: Db, key: string): Promise<void> {
  await db.deleteFrom("meta").where("key", "=", key).execute();
}
