import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Lets a caller learn the id of the job an operation starts, while the operation goes on: the HTTP API
 * answers 202 with the job at once. Only the first job started in the context is reported (a recovery
 * plan starts one job per machine under its own).
 */
const listener = new AsyncLocalStorage<{ reported: boolean; report: (id: string) => void }>();

export function announceJob(id: string): void {
  const context = listener.getStore();
  if (context && !context.reported) {
    context.reported = true;
    context.report(id);
  }
}

/** Run an operation; resolves with the id of its job as soon as it starts, or with the operation's own outcome. */
export function whenJobStarts<T>(operation: () => Promise<T>): { started: Promise<string | undefined>; done: Promise<T> } {
  let report!: (id: string | undefined) => void;
  const started = new Promise<string | undefined>((resolve) => (report = resolve));
  const done = listener.run({ reported: false, report }, operation);
  done.then(
    () => report(undefined),
    () => report(undefined),
  );
  return { started, done };
}
