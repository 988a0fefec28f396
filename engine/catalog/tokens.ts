import type { Insertable, Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type TokenRow = Selectable<Tables["tokens"]>;

export function findTokenNamed(db: Db, name: string): Promise<{ id: number } | undefined> {
  return db.selectFrom("tokens").select("id").where("name", "=", name).executeTakeFirst();
}

/** The token with this hash (tokens are kept hashed). */
export function findTokenByHash(db: Db, sha256: string): Promise<TokenRow | undefined> {
  return db.selectFrom("tokens").selectAll().where("sha256", "=", sha256).executeTakeFirst();
}

export async function insertToken(db: Db, row: Insertable<Tables["tokens"]>): Promise<void> {
  await db.insertInto("tokens").values(row).execute();
}

/** Delete the agent tokens bound to a host. */
export async function deleteAgentTokens(db: Db, host: string): Promise<void> {
  await db.deleteFrom("tokens").where("role", "=", "agent").where("host", "=", host).execute();
}

/** Revoke a token by name; whether there was one. */
export async function revokeTokenNamed(db: Db, name: string, at: number): Promise<boolean> {
  const result = await db.updateTable("tokens").set({ revoked_at: at }).where("name", "=", name).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
