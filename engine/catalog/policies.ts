import type { Insertable, Selectable, Updateable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type PolicyRow = Selectable<Tables["policies"]>;

export function findPolicy(db: Db, name: string): Promise<PolicyRow | undefined> {
  return db.selectFrom("policies").selectAll().where("name", "=", name).executeTakeFirst();
}

export function policyNameById(db: Db, id: number): Promise<{ name: string } | undefined> {
  return db.selectFrom("policies").select("name").where("id", "=", id).executeTakeFirst();
}

/** The first of these names a policy already has. */
export function anyPolicyNamed(db: Db, names: string[]): Promise<{ name: string } | undefined> {
  return db.selectFrom("policies").select("name").where("name", "in", names).executeTakeFirst();
}

/** The failback policy made for a policy. */
export function failbackPolicyOf(db: Db, id: number): Promise<{ id: number } | undefined> {
  return db.selectFrom("policies").select("id").where("failback_of", "=", id).executeTakeFirst();
}

export async function policyNames(db: Db): Promise<string[]> {
  return (await db.selectFrom("policies").select("name").orderBy("name").execute()).map((r) => r.name);
}

export async function insertPolicy(db: Db, row: Insertable<Tables["policies"]>): Promise<number> {
  return (await db.insertInto("policies").values(row).returning("id").executeTakeFirstOrThrow()).id;
}

export async function updatePoliciesNamed(db: Db, names: string[], changes: Updateable<Tables["policies"]>): Promise<void> {
  await db.updateTable("policies").set(changes).where("name", "in", names).execute();
}

export async function deletePolicy(db: Db, id: number): Promise<void> {
  await db.deleteFrom("policies").where("id", "=", id).execute();
}

/** A policy by id; throws when there is none (items refer to theirs). */
export function policyById(db: Db, id: number): Promise<PolicyRow> {
  return db.selectFrom("policies").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}
