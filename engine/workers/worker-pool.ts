import { availableParallelism } from "node:os";
import * as path from "node:path";
import { parentPort, Worker } from "node:worker_threads";

/** A worker with nothing to do this long is stopped, so a daemon holds no threads between big jobs. */
const IDLE_MS = 10_000;

/** The memory a job or result moves between threads rather than copies. */
export type Transfers<Job, Result> = (message: Job | Result) => ArrayBuffer[];

/**
 * `script` names the worker's entry module without extension, beside its pool module: .js when compiled.
 * Under ts-node (the tests) it is .ts, and the worker loads ts-node itself, since a worker does not
 * inherit hooks registered in the parent.
 */
function startWorker(script: string): Worker {
  const file = `${script}${path.extname(__filename)}`;
  const execArgv = file.endsWith(".ts") ? ["--require", require.resolve("ts-node/register/transpile-only")] : undefined;
  return new Worker(file, { execArgv });
}

interface Waiter<Result> {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

/** One worker thread and the jobs sent to it; it answers them in order. It keeps the process alive only while it has jobs. */
class PoolWorker<Job, Result> {
  private readonly worker: Worker;
  private readonly waiting: Array<Waiter<Result>> = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    script: string,
    private readonly transfers: Transfers<Job, Result>,
    private readonly onStop: (worker: PoolWorker<Job, Result>) => void,
  ) {
    this.worker = startWorker(script);
    this.worker.unref();
    this.worker.on("message", (result: Result) => {
      this.waiting.shift()?.resolve(result);
      if (this.waiting.length === 0) this.idle();
    });
    this.worker.on("error", (error) => this.stop(error));
    this.worker.on("exit", (code) => this.stop(new Error(`worker thread ${path.basename(script)} stopped (exit code ${code})`)));
  }

  get load(): number {
    return this.waiting.length;
  }

  run(job: Job): Promise<Result> {
    if (this.waiting.length === 0) {
      clearTimeout(this.idleTimer);
      this.worker.ref();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(job, this.transfers(job));
    });
  }

  private idle(): void {
    this.worker.unref();
    this.idleTimer = setTimeout(() => {
      this.stop(new Error("worker thread stopped while idle")); // out of the pool first, so no job is sent to it
      void this.worker.terminate();
    }, IDLE_MS).unref();
  }

  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    this.onStop(this);
  }
}

/**
 * Worker threads running one kind of job beside the main thread. Started on first use, up to `size`; a
 * job goes to an idle worker, else a new one, else the least loaded. Size 0 means no threads: callers
 * run jobs on the main thread.
 */
export class WorkerPool<Job, Result> {
  private readonly workers: Array<PoolWorker<Job, Result>> = [];

  constructor(
    readonly size: number,
    private readonly script: string,
    private readonly transfers: Transfers<Job, Result>,
  ) {}

  run(job: Job): Promise<Result> {
    const least = this.workers.reduce<PoolWorker<Job, Result> | undefined>((best, w) => (best && best.load <= w.load ? best : w), undefined);
    const worker = least && (least.load === 0 || this.workers.length >= this.size) ? least : this.start();
    return worker.run(job);
  }

  private start(): PoolWorker<Job, Result> {
    const worker = new PoolWorker<Job, Result>(this.script, this.transfers, (stopped) => {
      const at = this.workers.indexOf(stopped);
      if (at >= 0) this.workers.splice(at, 1);
    });
    this.workers.push(worker);
    return worker;
  }
}

/**
 * Threads for a process-wide pool: one per CPU, like the thread pool under fs; none on a single CPU,
 * where a worker could only take turns with the main thread.
 */
export function poolThreads(): number {
  const cpus = availableParallelism();
  return cpus > 1 ? cpus : 0;
}

/** Worker side: answer the pool's jobs with `run`, one at a time, in order. */
export function serveJobs<Job, Result>(script: string, run: (job: Job) => Result, transfers: Transfers<Job, Result>): void {
  const port = parentPort;
  if (!port) throw new Error(`${script} runs as a worker thread, started by its pool`);
  port.on("message", (job: Job) => {
    const result = run(job);
    port.postMessage(result, transfers(result));
  });
}
