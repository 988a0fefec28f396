import type { Insertable, Selectable, Updateable } from "kysely";
import type { Db } from "./db";
import type { Tables } from "./tables";

export type JobRow = Selectable<Tables["jobs"]>;

export async function insertJob(db: Db, row: Insertable<Tables["jobs"]>): Promise<void> {
  await db.insertInto("jobs").values(row).execute();
}

export function findJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function updateJob(db: Db, id: string, changes: Updateable<Tables["jobs"]>): Promise<void> {
  await db.updateTable("jobs").set(changes).where("id", "=", id).execute();
}

/** Update a job only while it is in state `from` (a guard against a concurrent ending). */
export async function updateJobIn(db: Db, id: string, from: string, changes: Updateable<Tables["jobs"]>): Promise<void> {
  await db.updateTable("jobs").set(changes).where("id", "=", id).where("state", "=", from).execute();
}

/** Ids of the newest jobs (of one target, when given), newest first. */
export async function latestJobIds(db: Db, filter: { target?: string; limit: number }): Promise<string[]> {
  let query = db.selectFrom("jobs").select("id").orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit);
  if (filter.target) query = query.where("target", "=", filter.target);
  return (await query.execute()).map((r) => r.id);
}

/** Jobs of a target, of these types, in these states. */
export async function jobIdsOf(db: Db, target: string, types: string[], states: string[]): Promise<string[]> {
  return (await db.selectFrom("jobs").select("id").where("target", "=", target).where("type", "in", types).where("state", "in", states).execute()).map(
    (r) => r.id,
  );
}

/** One job of a target, of these types, in a state (any of them, when several). */
export function findJobOf(db: Db, target: string, types: string[], state: string): Promise<{ id: string; type: string } | undefined> {
  return db.selectFrom("jobs").select(["id", "type"]).where("target", "=", target).where("state", "=", state).where("type", "in", types).executeTakeFirst();
}

/** Every InProgress job with its owner. */
export function runningJobs(db: Db) {
  return db.selectFrom("jobs").select(["id", "type", "target", "owner_host", "owner_pid", "owner_start"]).where("state", "=", "InProgress").execute();
}

export type TaskRow = Selectable<Tables["tasks"]>;

export async function insertTask(db: Db, row: Insertable<Tables["tasks"]>): Promise<number> {
  return (await db.insertInto("tasks").values(row).returning("id").executeTakeFirstOrThrow()).id;
}

export async function updateTask(db: Db, id: number, changes: Updateable<Tables["tasks"]>): Promise<void> {
  await db.updateTable("tasks").set(changes).where("id", "=", id).execute();
}

/** The newest task of a job by name under a parent (top level: null). */
export function findTask(db: Db, jobId: string, name: string, parent: number | null) {
  let query = db.selectFrom("tasks").select(["id", "state", "error_message"]).where("job_id", "=", jobId).where("name", "=", name);
  query = parent === null ? query.where("parent_id", "is", null) : query.where("parent_id", "=", parent);
  return query.orderBy("id", "desc").executeTakeFirst();
}

/** The highest task sequence number of a job, if it has tasks. */
export async function lastTaskSeq(db: Db, jobId: string): Promise<number | null> {
  const row = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("job_id", "=", jobId)
    .executeTakeFirst();
  return row?.seq ?? null;
}

/** A job's tasks, in sequence order. */
export function tasksOf(db: Db, jobId: string): Promise<TaskRow[]> {
  return db.selectFrom("tasks").selectAll().where("job_id", "=", jobId).orderBy("seq").execute();
}

/** Names of a job's top-level tasks in a state (`=`) or not in it (`!=`), in sequence order. */
export async function topTaskNames(db: Db, jobId: string, op: "=" | "!=", state: string): Promise<string[]> {
  return (
    await db.selectFrom("tasks").select("name").where("job_id", "=", jobId).where("parent_id", "is", null).where("state", op, state).orderBy("seq").execute()
  ).map((t) => t.name);
}

/** Fail a job's running tasks. */
export async function failRunningTasks(db: Db, jobId: string, at: number, message: string): Promise<void> {
  await db
    .updateTable("tasks")
    .set({ state: "Failed", ended_at: at, error_message: message })
    .where("job_id", "=", jobId)
    .where("state", "=", "InProgress")
    .execute();
}
