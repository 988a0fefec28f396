import { EngineError, type ErrorCode } from "../schema/errors";

/** The error class and its codes live in schema/errors.ts (the client raises the same ones). */
export { EngineError } from "../schema/errors";

/** The only way to raise NotFound: names what is missing; `message` replaces the standard wording. */
export class NotFoundError extends EngineError {
  constructor(what: string, name: string, field = "name", message = `${what} '${name}' does not exist`) {
    super("NotFound", message, { field });
  }
}

/** The only way to raise Conflict: the object's state does not allow the operation now. */
export class ConflictError extends EngineError {
  constructor(message: string, field?: string) {
    super("Conflict", message, { field });
  }
}

/**
 * errno codes of failures that may go away by themselves: I/O errors, a full store (SQLITE_FULL: the
 * catalog's filesystem), a lost connection. Those without a code of their own are ConnectionLost.
 */
const RECOVERABLE_ERRNO = new Set([
  "EIO",
  "ENOSPC",
  "EDQUOT",
  "SQLITE_FULL",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAGAIN",
  "EBUSY",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
/** errno codes with a code of their own; whether each is recoverable is the code's (schema/errors.ts). */
const ERRNO_CODES: Partial<Record<string, ErrorCode>> = {
  ENOENT: "DiskNotFound",
  ENODEV: "DiskNotFound",
  ENXIO: "DiskNotFound",
  EACCES: "AccessDenied",
  EPERM: "AccessDenied",
  EIO: "IoError",
  ENOSPC: "StoreFull",
  EDQUOT: "StoreFull",
  SQLITE_FULL: "StoreFull",
};

const errnoCode = (errno: string): ErrorCode => ERRNO_CODES[errno] ?? (RECOVERABLE_ERRNO.has(errno) ? "ConnectionLost" : "OsError");

/** Classify any thrown value into an EngineError with a code and the recoverable flag. */
export function classify(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const errno = (error as NodeJS.ErrnoException)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (!errno) return new EngineError("InternalError", message);
  const code = errnoCode(errno);
  // Any other errno keeps its name in the message: one closed code, the detail still readable.
  return new EngineError(code, code === "OsError" && !message.includes(errno) ? `${errno}: ${message}` : message);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
