import { ValidationError } from "../schema";
import { EngineError } from "../engine";

/** Exit codes: 2 for bad input, 1 for anything else that failed. */
export function reportError(error: unknown, json: boolean): number {
  // A schema's failure lists each property; a single refused value prints as any EngineError, its field after it.
  if (error instanceof ValidationError && error.what !== undefined) {
    if (json) process.stderr.write(JSON.stringify({ error: { code: error.code, message: error.message, failures: error.failures } }) + "\n");
    else process.stderr.write(`error: invalid ${error.what}\n${error.failures.map((f) => `  ${f.property || "(value)"}: ${f.reason}`).join("\n")}\n`);
    return 2;
  }
  const e = error instanceof EngineError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stderr.write(JSON.stringify({ error: { code: e?.code ?? "InternalError", message, field: e?.field } }) + "\n");
  else process.stderr.write(`error: ${message}${e?.field ? ` (${e.field})` : ""}\n`);
  return e?.code === "InvalidInput" ? 2 : 1;
}
