import { ValidationError } from "../../schema";
import { EngineError } from "../errors";

export interface ErrorBody {
  error: { code: string; message: string; field?: string; failures?: Array<{ property: string; reason: string }> };
}

const STATUS: Record<string, number> = { InvalidInput: 400, NotFound: 404, Conflict: 409, AlreadyExists: 409, Unauthorized: 401, Forbidden: 403, VaultBusy: 503, BlocksMissing: 409 };

/** The stable error shape of the API: a code, a message and the offending field; never a stack trace. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ValidationError) return { status: 400, body: { error: { code: error.code, message: error.message, field: error.failures[0]?.property, failures: error.failures } } };
  if (error instanceof EngineError) return { status: STATUS[error.code] ?? (error.code.startsWith("No") || error.code.endsWith("InUse") ? 409 : 500), body: { error: { code: error.code, message: error.message, field: error.field } } };
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return { status, body: { error: { code: "BadRequest", message: (error as Error).message } } };
  return { status: 500, body: { error: { code: "InternalError", message: "the engine failed to handle the request; see its log" } } };
}
