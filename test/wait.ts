/**
 * Waiting for conditions, never for fixed delays: CI runs on two cores that may be busy, where a process
 * can take many seconds to start. Deadlines are generous (a broken condition still fails the test well
 * inside mocha's timeout) and the failure says what was awaited.
 */
export const WAIT_MS = 120_000;

/** Resolve with the first value `probe` gives that is not undefined (or false); throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = WAIT_MS,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A probe that reads and parses a JSON file another process writes: undefined until it exists and parses. */
export async function readJsonWhenReady<T>(file: string): Promise<T | undefined> {
  const { promises: fs } = await import("node:fs");
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
