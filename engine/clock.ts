/** Time source of the engine; tests inject a ManualClock so nothing waits for real intervals. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A stored time (epoch ms) as the API shows it, ISO 8601 in UTC; null (never happened) stays null. */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
