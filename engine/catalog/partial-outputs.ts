import type { Selectable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type PartialOutputRow = Selectable<Tables["partial_outputs"]>;
type Writer = Omit<PartialOutputRow, "path">;

/** Record who writes a partial output (a path written again takes the new writer). */
export async function recordPartialOutput(db: Db, path: string, writer: Writer): Promise<void> {
  await db
    .insertInto("partial_outputs")
    .values({ path, ...writer })
    .onConflict((oc) => oc.column("path").doUpdateSet(writer))
    .execute();
}

export function partialOutputs(db: Db): Promise<PartialOutputRow[]> {
  return db.selectFrom("partial_outputs").selectAll().execute();
}

export async function forgetPartialOutput(db: Db, path: string): Promise<void> {
  await db.deleteFrom("partial_outputs").where("path", "=", path).execute();
}
