// Pulumi does not enforce customTimeouts for dynamic providers, so every hook bounds itself.

/** Hooks that run jobs (protect, unprotect, drills) wait for them: half an hour unless told otherwise. */
const JOB_HOOK_MS = 30 * 60_000;
const QUICK_HOOK_MS = 60_000;

export function hookTimeoutMs(runsJobs: boolean): number {
  const configured = Number(process.env.LIFEBOAT_HOOK_TIMEOUT_MS);
  if (Number.isFinite(configured) && configured > 0) return configured;
  return runsJobs ? JOB_HOOK_MS : QUICK_HOOK_MS;
}

export async function withTimeout<T>(what: string, ms: number, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s (LIFEBOAT_HOOK_TIMEOUT_MS)`)), ms);
  });
  try {
    return await Promise.race([body(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
