import { ERRORS, ValidationError, type ErrorBody } from "../../schema";
import { EngineError } from "../errors";

/** The stable error shape of the API: a code, a message and the offending field; never a stack trace. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  // A schema's failure also sends what and every failing property; a single refused value answers as any EngineError.
  if (error instanceof ValidationError && error.what !== undefined)
    return {
      status: ERRORS[error.code].status,
      body: { error: { code: error.code, message: error.message, field: error.field, what: error.what, failures: error.failures } },
    };
  if (error instanceof EngineError)
    return { status: ERRORS[error.code].status, body: { error: { code: error.code, message: error.message, field: error.field } } };
  // The framework's own refusals (a body that is not JSON, too large): their 4xx status, one code.
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return { status, body: { error: { code: "BadRequest", message: (error as Error).message } } };
  return { status: ERRORS.InternalError.status, body: { error: { code: "InternalError", message: "the engine failed to handle the request; see its log" } } };
}
