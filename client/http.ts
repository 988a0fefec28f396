import { pathToFileURL } from "node:url";
import { EngineError, ErrorBody, ValidationError } from "../schema";

/** The little of got's API used here (got is ESM-only; its types cannot be imported from CommonJS). */
interface GotResponse {
  statusCode: number;
  statusMessage?: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}
type Got = (url: string, options: Record<string, unknown>) => Promise<GotResponse>;

/** Per request; overridable for slow links (LIFEBOAT_HTTP_TIMEOUT_MS). Long operations answer 202 at once. */
const DEFAULT_TIMEOUT_MS = 60_000;
/** Only reads are retried: a repeated POST could start a second job. */
const GET_RETRIES = 2;

// A dynamic import that TypeScript leaves alone (it rewrites `import()` to `require` under CommonJS).
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<{ default: Got }>;
let gotLoad: Promise<Got> | undefined;
const loadGot = (): Promise<Got> => (gotLoad ??= importEsm(pathToFileURL(require.resolve("got")).href).then((m) => m.default));

/**
 * One JSON request to the engine's API. Errors come back as the ValidationError / EngineError the
 * engine raised, with its field and reason; a connection that fails is a recoverable ConnectionLost.
 */
export async function requestJson<T>(endpoint: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
  const got = await loadGot();
  const timeout = Number(process.env.LIFEBOAT_HTTP_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
  const res = await got(new URL(path, endpoint).href, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    throwHttpErrors: false,
    responseType: "text",
    timeout: { request: timeout },
    retry: {
      limit: method === "GET" ? GET_RETRIES : 0,
      methods: ["GET"],
      statusCodes: [502, 503, 504],
      // Short pauses: a daemon restarting is back within a second or so, and a CLI should not hang.
      calculateDelay: ({ computedValue, attemptCount }: { computedValue: number; attemptCount: number }) => (computedValue ? 250 * attemptCount : 0),
    },
  }).catch((error: Error & { code?: string }) => {
    const reason = error.code === "ETIMEDOUT" ? `no answer within ${timeout} ms` : error.message;
    throw new EngineError("ConnectionLost", `cannot reach the engine at ${endpoint}: ${reason}`, { field: "endpoint" });
  });
  const text = res.body;
  const contentType = String(res.headers["content-type"] ?? "");
  const json = text && contentType.includes("json") ? JSON.parse(text) : undefined;
  if (res.statusCode >= 200 && res.statusCode < 300) return json as T;
  throw errorOf(res, json);
}

/** The engine's error, rebuilt from its body; whether it is recoverable is its code's (schema/errors.ts). */
function errorOf(res: GotResponse, json: unknown): Error {
  const body = ErrorBody.safeParse(json);
  if (!body.success) {
    // Not a Lifeboat daemon's answer (a proxy in between): a 5xx of its own may pass.
    const message = res.body || res.statusMessage || `HTTP ${res.statusCode}`;
    return new EngineError("UnexpectedResponse", `HTTP ${res.statusCode} without an engine error body: ${message}`, { recoverable: res.statusCode >= 500 });
  }
  const { code, message, field, what, failures } = body.data.error;
  // Bad input of either kind is a ValidationError here too, so a remote CLI prints what a local one does.
  if (code === "InvalidInput") return failures ? new ValidationError(what ?? "input", failures, message) : ValidationError.refused(field ?? "", message);
  return new EngineError(code, message, { field });
}
