import type { Db } from "./db";

/** Recovery plans: the spec is kept as JSON. */

export function findPlanSpec(db: Db, name: string): Promise<{ spec: string } | undefined> {
  return db.selectFrom("plans").select("spec").where("name", "=", name).executeTakeFirst();
}

/** Every plan's spec, in name order. */
export async function planSpecs(db: Db): Promise<string[]> {
  return (await db.selectFrom("plans").select("spec").orderBy("name").execute()).map((r) => r.spec);
}

export async function insertPlan(db: Db, name: string, spec: string, createdAt: number): Promise<void> {
  await db.insertInto("plans").values({ name, spec, created_at: createdAt }).execute();
}

export async function setPlanSpec(db: Db, name: string, spec: string): Promise<void> {
  await db.updateTable("plans").set({ spec }).where("name", "=", name).execute();
}

/** Delete a plan; whether there was one. */
export async function deletePlan(db: Db, name: string): Promise<boolean> {
  return Number((await db.deleteFrom("plans").where("name", "=", name).executeTakeFirst()).numDeletedRows) > 0;
}
