import type { Insertable, Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type SiteRow = Selectable<Tables["sites"]>;

export function findSite(db: Db, name: string): Promise<SiteRow | undefined> {
  return db.selectFrom("sites").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function insertSite(db: Db, row: Insertable<Tables["sites"]>): Promise<number> {
  return (await db.insertInto("sites").values(row).returning("id").executeTakeFirstOrThrow()).id;
}

export async function setSitePath(db: Db, id: number, path: string | null): Promise<void> {
  await db.updateTable("sites").set({ path }).where("id", "=", id).execute();
}

export async function deleteSite(db: Db, id: number): Promise<void> {
  await db.deleteFrom("sites").where("id", "=", id).execute();
}

/** Every site's name, in name order. */
export async function siteNames(db: Db): Promise<string[]> {
  return (await db.selectFrom("sites").select("name").orderBy("name").execute()).map((r) => r.name);
}

/** A site by id; throws when there is none (items and networks refer to theirs). */
export function siteById(db: Db, id: number): Promise<SiteRow> {
  return db.selectFrom("sites").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}
