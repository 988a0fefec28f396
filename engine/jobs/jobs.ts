import { randomBytes } from "node:crypto";
import type { CatalogDb } from "../catalog/catalog";
import { iso, type Clock } from "../clock";
import { classify, NotFoundError } from "../errors";
import { storedErrorCode, type JobState, type JobType } from "../../schema";
import { announceJob } from "./job-started";
import { thisProcess } from "../process/owner";
import type { JobView, TaskView } from "../../schema";
export type { JobView, TaskView };
import { findJob, findTask, insertJob, insertTask, lastTaskSeq, latestJobIds, tasksOf, updateJob, updateTask } from "../catalog/jobs";

/** Thrown by a task that must wait for a person: the task and its job become Suspended, not Failed. */
export class SuspendSignal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export const newId = (prefix: string, at: number) => `${prefix}-${at.toString(36)}-${randomBytes(4).toString("hex")}`;

const PROGRESS_INTERVAL_MS = 2000;

/** A running task: reports progress and may run subtasks. */
export class Task {
  private lastWrite = 0;
  constructor(
    private readonly job: Job,
    readonly id: number,
  ) {}

  /**
   * Record progress (0..1). Each write is a durable catalog commit (an fsync), so writes are kept to one
   * every 2 s per task: ten disks reporting every 256 blocks cost seconds of stalls otherwise.
   */
  async progress(fraction: number, detail?: string): Promise<void> {
    const now = Date.now();
    if (fraction < 1 && now - this.lastWrite < PROGRESS_INTERVAL_MS) return;
    this.lastWrite = now;
    await updateTask(this.job.db, this.id, { progress: Math.min(1, fraction), detail: detail ?? null });
  }

  child<T>(name: string, run: (task: Task) => Promise<T>): Promise<T> {
    return this.job.runTask(name, this.id, run);
  }

  /** Show subtasks as NotStarted before they run, so the whole tree is visible from the start. */
  async plan(names: string[]): Promise<void> {
    for (const name of names) if (!(await this.job.findTask(name, this.id))) await this.job.insertTask(name, this.id, "NotStarted");
  }

  /** A subtask's state, if it exists. */
  async stateOf(name: string): Promise<JobState | undefined> {
    return (await this.job.findTask(name, this.id))?.state as JobState | undefined;
  }
}

/** A persisted job with a task tree; every engine operation runs as one. */
export class Job {
  private seq = 0;
  constructor(
    readonly db: CatalogDb,
    private readonly clock: Clock,
    readonly id: string,
  ) {}

  static async start(db: CatalogDb, clock: Clock, type: JobType, target: string, plan: string[]): Promise<Job> {
    const now = clock.now();
    const job = new Job(db, clock, newId("job", now));
    await insertJob(db, {
      id: job.id,
      type,
      target,
      state: "InProgress",
      created_at: now,
      started_at: now,
      ended_at: null,
      error_code: null,
      error_message: null,
      result: null,
      ...ownedHere(),
    });
    for (const name of plan) await job.insertTask(name, null, "NotStarted");
    announceJob(job.id);
    return job;
  }

  /** Take a Suspended job up again; its NotStarted tasks run as planned. */
  static async resume(db: CatalogDb, clock: Clock, id: string): Promise<Job> {
    await updateJob(db, id, { state: "InProgress", ...ownedHere() });
    const job = new Job(db, clock, id);
    job.seq = ((await lastTaskSeq(db, id)) ?? 0) + 1;
    announceJob(id);
    return job;
  }

  /** A task of this job by name under a parent (top level: null). */
  findTask(name: string, parent: number | null) {
    return findTask(this.db, this.id, name, parent);
  }

  async insertTask(name: string, parent: number | null, state: JobState): Promise<number> {
    return insertTask(this.db, {
      job_id: this.id,
      parent_id: parent,
      seq: this.seq++,
      name,
      state,
      progress: 0,
      detail: null,
      started_at: state === "InProgress" ? this.clock.now() : null,
      ended_at: null,
      error_message: null,
    });
  }

  /** Run a planned top-level task (or a new one). Failure marks the task Failed and rethrows. */
  step<T>(name: string, run: (task: Task) => Promise<T>): Promise<T> {
    return this.runTask(name, null, run);
  }

  async runTask<T>(name: string, parent: number | null, run: (task: Task) => Promise<T>): Promise<T> {
    // A planned task, or one suspended earlier and now taken up again, is reused.
    const found = await this.findTask(name, parent);
    const planned = found && (found.state === "NotStarted" || found.state === "Suspended") ? found : undefined;
    const id = planned ? planned.id : await this.insertTask(name, parent, "InProgress");
    if (planned) await updateTask(this.db, id, { state: "InProgress", started_at: this.clock.now() });
    try {
      const value = await run(new Task(this, id));
      await updateTask(this.db, id, { state: "Succeeded", progress: 1, ended_at: this.clock.now() });
      return value;
    } catch (error) {
      const suspended = error instanceof SuspendSignal;
      await updateTask(
        this.db,
        id,
        suspended ? { state: "Suspended", detail: error.reason } : { state: "Failed", ended_at: this.clock.now(), error_message: classify(error).message },
      );
      throw error;
    }
  }

  /** The job as it stands, with its task tree. */
  async view(): Promise<JobView> {
    return (await readJob(this.db, this.id))!;
  }

  /** Whether someone asked to cancel this job (checked by the job between its tasks). */
  async cancelRequested(): Promise<boolean> {
    return (await findJob(this.db, this.id))?.cancel_requested === 1;
  }

  async finish(state: "Succeeded" | "Suspended" | "Cancelled", result?: unknown): Promise<void> {
    await updateJob(this.db, this.id, {
      state,
      ended_at: state === "Suspended" ? null : this.clock.now(),
      result: result === undefined ? null : JSON.stringify(result),
    });
  }

  async fail(error: unknown): Promise<void> {
    const e = classify(error);
    await updateJob(this.db, this.id, { state: "Failed", ended_at: this.clock.now(), error_code: e.code, error_message: e.message });
  }

  /** Run body as this job's work: the job ends Succeeded with its result, or Failed with the error (rethrown). */
  async run<T>(body: (job: Job) => Promise<T>): Promise<T> {
    try {
      const result = await body(this);
      await this.finish("Succeeded", result);
      return result;
    } catch (error) {
      await this.fail(error);
      throw error;
    }
  }
}

/**
 * An operation of one task, as a job of `type` on `target`: body runs as the task, and the job ends with its
 * result or its error. The error is the job's to tell, not thrown, once `onFailure` has recorded it.
 */
export async function oneTaskJob<T>(
  db: CatalogDb,
  clock: Clock,
  type: JobType,
  target: string,
  task: string,
  body: (task: Task) => Promise<T>,
  onFailure: (error: unknown) => Promise<unknown> = async () => undefined,
): Promise<JobView> {
  const job = await Job.start(db, clock, type, target, [task]);
  await job.run(() => job.step(task, body)).catch(onFailure);
  return await job.view();
}

/** The owner columns of a job this process runs: if it dies, whoever opens the vault next ends the job (crash/interrupted.ts). */
function ownedHere() {
  const owner = thisProcess();
  return { owner_host: owner.host, owner_pid: owner.pid, owner_start: owner.start };
}

export async function readJob(db: CatalogDb, id: string): Promise<JobView | undefined> {
  const job = await findJob(db, id);
  if (!job) return undefined;
  const tasks = await tasksOf(db, id);
  const views = new Map<number, TaskView>();
  const roots: TaskView[] = [];
  for (const t of tasks) {
    const view: TaskView = {
      id: t.id,
      name: t.name,
      state: t.state as JobState,
      progress: t.progress,
      detail: t.detail,
      startedAt: iso(t.started_at),
      endedAt: iso(t.ended_at),
      error: t.error_message,
      children: [],
    };
    views.set(t.id, view);
    (t.parent_id === null ? roots : (views.get(t.parent_id)?.children ?? roots)).push(view);
  }
  return {
    id: job.id,
    type: job.type as JobType,
    target: job.target,
    state: job.state as JobState,
    createdAt: iso(job.created_at)!,
    startedAt: iso(job.started_at),
    endedAt: iso(job.ended_at),
    durationMs: job.ended_at !== null && job.started_at !== null ? job.ended_at - job.started_at : null,
    error: job.error_code ? { code: storedErrorCode(job.error_code), message: job.error_message ?? "" } : null,
    result: job.result ? JSON.parse(job.result) : null,
    owner: job.state === "InProgress" && job.owner_host !== null && job.owner_pid !== null ? { host: job.owner_host, pid: job.owner_pid } : null,
    tasks: roots,
  };
}

/** A job by id (readJob), where an unknown id is NotFound. */
export async function jobView(db: CatalogDb, id: string): Promise<JobView> {
  const job = await readJob(db, id);
  if (!job) throw new NotFoundError("job", id, "id");
  return job;
}

export async function listJobs(db: CatalogDb, filter: { target?: string; limit?: number } = {}): Promise<JobView[]> {
  const ids = await latestJobIds(db, { target: filter.target, limit: filter.limit ?? 50 });
  return (await Promise.all(ids.map((id) => readJob(db, id)))).filter((j): j is JobView => j !== undefined);
}
