import { EngineError } from "../errors";
import type { QmpClient } from "./client";

/**
 * Resolve when `check` gives a value: checked at once, again on each of `events` (the change that matters
 * is announced by one), and every `everyMs` in case it is not. Rejects when the client's connection
 * closes or after `timeoutMs`, naming what was awaited.
 */
export function until<T>(
  client: QmpClient,
  what: string,
  events: string[],
  check: () => Promise<T | undefined>,
  { timeoutMs = 60_000, everyMs = 500 } = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const finish = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      for (const event of events) client.off(event, probe);
      client.off("close", onClose);
      clearInterval(poll);
      clearTimeout(timer);
      error ? reject(error) : resolve(value as T);
    };
    // One check at a time; an event during a check asks for one more, so no change goes unseen.
    const probe = () => {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      check().then(
        (value) => {
          checking = false;
          if (value !== undefined) return finish(undefined, value);
          if (again) {
            again = false;
            probe();
          }
        },
        (error: Error) => finish(error),
      );
    };
    const onClose = (failure: Error) => finish(new EngineError("ConnectionLost", `gave up waiting for ${what}: ${failure.message}`));
    for (const event of events) client.on(event, probe);
    client.on("close", onClose);
    const poll = setInterval(probe, everyMs);
    const timer = setTimeout(() => finish(new EngineError("QmpCommandFailed", `QEMU did not reach ${what} within ${timeoutMs} ms`)), timeoutMs);
    probe();
  });
}
