import { setTimeout as sleep } from "node:timers/promises";

/**
 * A token bucket over bytes: callers `take` what they are about to read and wait while they are ahead of
 * the rate. Paces real I/O, so it runs on real time, not the engine's clock. Bursts up to a second's worth.
 */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    await sleep((-this.tokens / this.bytesPerSecond) * 1000, undefined, { signal }).catch(() => undefined);
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}

export const MiB = 1024 * 1024;
