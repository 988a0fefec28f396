/** What `npm run bench` hands each suite. */
export interface SuiteContext {
  /** An empty directory of the suite's own, on the file system under test; removed after the suite. */
  workDir: string;
  /** Where the suite writes its <name>.md and <name>.json. */
  resultsDir: string;
  /** Progress, to stderr (stdout carries the results tables). */
  log: (line: string) => void;
}

export type Suite = (context: SuiteContext) => Promise<void>;

/** Fixed, so every run builds the same images and makes the same changes. */
export const SEED = 20260101;
/** Runs per timing; the fastest counts. */
export const RUNS = 3;
/** Share of the image's blocks each delta round (or failback) rewrites. */
export const CHANGED_FRACTION = 0.01;
/** The machines of the failover and soak suites: vm01, vm02, ... */
export const machineName = (index: number): string => `vm${String(index + 1).padStart(2, "0")}`;

/** A size in MiB from the environment: a whole number of at least 1, or the default when unset. */
export function mibFromEnv(name: string, fallback: number): number {
  const text = process.env[name] ?? String(fallback);
  const mib = Number(text);
  if (!Number.isInteger(mib) || mib < 1) throw new Error(`${name} must be a whole number of MiB, got '${text}'`);
  return mib;
}
