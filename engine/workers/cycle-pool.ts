import { EngineError } from "../errors";

/**
 * The scheduler's work in flight in this process (replication windows, initial replications, resyncs):
 * at most `limit` units run at once, never two holding the same item, and each runs under a deadline
 * that aborts its signal. A unit holds its items from being queued until it settles; units beyond the
 * limit wait in order for a free slot.
 */
export class CyclePool {
  /** Units that run at once (the daemon's --max-cycles). */
  limit = 4;
  private running = 0;
  private readonly held = new Set<number>();
  private readonly queue: Array<{ start: () => void; drop: (reason: unknown) => void }> = [];
  private readonly deadlines = new Set<AbortController>();
  private readonly waiters: Array<() => void> = [];
  /** Disk paths whose read has not returned: a read abandoned at its deadline stays here while it hangs. */
  readonly reading = new Set<string>();

  /** Whether one of these items has a unit queued or running. */
  holds(items: number[]): boolean {
    return items.some((id) => this.held.has(id));
  }

  /** Resolves once none of these items has a unit queued or running. */
  async idle(items: number[]): Promise<void> {
    while (this.holds(items)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Queue `work` for these items: its outcome, or undefined when one of them already has a unit (it is
   * not queued then). After `deadline` ms of running, its signal aborts with a DeadlineExceeded error
   * naming `what`; the work is expected to give up then (see captureWindow).
   */
  submit<T>(items: number[], what: string, deadlineMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> | undefined {
    if (this.holds(items)) return undefined;
    for (const id of items) this.held.add(id);
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        const deadline = new AbortController();
        this.deadlines.add(deadline);
        const timer = setTimeout(() => deadline.abort(deadlineExceeded(what, deadlineMs)), deadlineMs);
        timer.unref();
        const run = async () => work(deadline.signal);
        run()
          .then(resolve, reject)
          .finally(() => {
            clearTimeout(timer);
            this.deadlines.delete(deadline);
            this.running--;
            this.release(items);
            this.next();
          });
      };
      const drop = (reason: unknown) => {
        this.release(items);
        reject(reason);
      };
      this.queue.push({ start, drop });
      this.next();
    });
  }

  /**
   * The process is stopping: queued units are dropped, running ones aborted (their windows give up and
   * resume their machines; a record under way completes). Resolves once every unit has settled.
   */
  async stop(): Promise<void> {
    for (const unit of this.queue.splice(0)) unit.drop(new PoolStopped());
    for (const deadline of this.deadlines) deadline.abort(new PoolStopped());
    while (this.held.size) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Run `body` holding these items, outside the limit (work that runs under the vault lock, such as a
   * replicate-now, cannot wait for a slot: a window waiting for the lock may hold it). Throws ItemsBusy,
   * before running anything, when one of them has a unit already.
   */
  async hold<T>(items: number[], body: () => Promise<T>): Promise<T> {
    if (this.holds(items)) throw new ItemsBusy(items);
    for (const id of items) this.held.add(id);
    try {
      return await body();
    } finally {
      this.release(items);
    }
  }

  private release(items: number[]): void {
    for (const id of items) this.held.delete(id);
    for (const wake of this.waiters.splice(0)) wake();
  }

  private next(): void {
    while (this.running < this.limit && this.queue.length) this.queue.shift()!.start();
  }
}

/** A unit given up because the process stops: not a failure of the machine, nothing is recorded for it. */
export class PoolStopped extends Error {
  constructor() {
    super("the daemon stopped");
  }
}

/** Work asked for items the pool runs work for now: wait for them (CyclePool.idle), without the vault lock, and ask again. */
export class ItemsBusy extends Error {
  constructor(readonly items: number[]) {
    super("a replication cycle of these items is running");
  }
}

function deadlineExceeded(what: string, deadlineMs: number): EngineError {
  return new EngineError(
    "DeadlineExceeded",
    `${what} did not finish within its deadline of ${Math.round(deadlineMs / 1000)} s and was abandoned (a disk or the store does not answer)`,
    { recoverable: true },
  );
}
