import { availableParallelism } from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { transfers, type AddressJob, type AddressResult } from "./address-job";

/** A worker with nothing to do this long is stopped, so a daemon holds no threads between full captures. */
const IDLE_MS = 10_000;

/**
 * The worker's script sits beside this module with the same extension: .js when compiled. Under ts-node
 * (the tests) it is .ts, and the worker loads ts-node itself, since a worker does not inherit hooks
 * registered in the parent.
 */
function startWorker(): Worker {
  const script = path.join(__dirname, `address-worker${path.extname(__filename)}`);
  const execArgv = script.endsWith(".ts") ? ["--require", require.resolve("ts-node/register/transpile-only")] : undefined;
  return new Worker(script, { execArgv });
}

interface Waiter {
  resolve: (result: AddressResult) => void;
  reject: (error: Error) => void;
}

/** One worker thread and the jobs sent to it; it answers them in order. It keeps the process alive only while it has jobs. */
class AddressWorker {
  private readonly worker = startWorker();
  private readonly waiting: Waiter[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly onStop: (worker: AddressWorker) => void) {
    this.worker.unref();
    this.worker.on("message", (result: AddressResult) => {
      this.waiting.shift()?.resolve(result);
      if (this.waiting.length === 0) this.idle();
    });
    this.worker.on("error", (error) => this.stop(error));
    this.worker.on("exit", (code) => this.stop(new Error(`address worker stopped (exit code ${code})`)));
  }

  get load(): number {
    return this.waiting.length;
  }

  run(job: AddressJob): Promise<AddressResult> {
    if (this.waiting.length === 0) {
      clearTimeout(this.idleTimer);
      this.worker.ref();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(job, transfers(job));
    });
  }

  private idle(): void {
    this.worker.unref();
    this.idleTimer = setTimeout(() => {
      this.stop(new Error("address worker stopped while idle")); // out of the pool first, so no job is sent to it
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
 * Worker threads that address blocks (SHA-256, and zstd frames) beside the main thread. Started on first
 * use, up to one per CPU; a job goes to an idle worker, else a new one, else the least loaded.
 */
export class AddressPool {
  private readonly workers: AddressWorker[] = [];

  constructor(readonly size: number) {}

  run(job: AddressJob): Promise<AddressResult> {
    const least = this.workers.reduce<AddressWorker | undefined>((best, w) => (best && best.load <= w.load ? best : w), undefined);
    const worker = least && (least.load === 0 || this.workers.length >= this.size) ? least : this.start();
    return worker.run(job);
  }

  private start(): AddressWorker {
    const worker = new AddressWorker((stopped) => {
      const at = this.workers.indexOf(stopped);
      if (at >= 0) this.workers.splice(at, 1);
    });
    this.workers.push(worker);
    return worker;
  }
}

let shared: AddressPool | undefined;

/**
 * The process's pool: like the thread pool under fs, one for everything, its idle threads stopped and never
 * keeping the process alive. Empty on a single CPU, where a worker could only take turns with the main thread.
 */
export function sharedAddressPool(): AddressPool {
  const cpus = availableParallelism();
  return (shared ??= new AddressPool(cpus > 1 ? cpus : 0));
}
