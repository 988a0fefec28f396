import { EngineError } from "../engine/errors";
import { ValidationError } from "../schema";

/**
 * One JSON request to the engine's API. Errors come back as the ValidationError / EngineError the
 * engine raised, with its field and reason; a connection that fails is a recoverable ConnectionLost.
 */
export async function requestJson<T>(endpoint: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, endpoint), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => {
    throw new EngineError("ConnectionLost", `cannot reach the engine at ${endpoint}: ${error.message}`, true, "endpoint");
  });
  const text = await res.text();
  const json = text && (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : undefined;
  if (res.ok) return json as T;
  const e = json?.error ?? { code: `Http${res.status}`, message: text || res.statusText };
  if (e.failures) throw new ValidationError(e.message.replace(/^invalid ([^:]+):.*$/s, "$1"), e.failures);
  throw new EngineError(e.code, e.message, res.status >= 500, e.field);
}
