/**
 * Engine errors carry a stable code. Replication sorts failures into recoverable ones (retried with
 * back-off) and non-recoverable ones (health Critical, no retry until resolved), as ASR does.
 */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly recoverable = false,
    readonly field?: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export class NotFoundError extends EngineError {
  constructor(what: string, name: string) {
    super("NotFound", `${what} '${name}' does not exist`, false, "name");
  }
}

export class ConflictError extends EngineError {
  constructor(message: string, field?: string) {
    super("Conflict", message, false, field);
  }
}

/**
 * errno codes of failures that may go away by themselves: I/O errors, a full store (SQLITE_FULL: the
 * catalog's filesystem), a lost connection.
 */
const RECOVERABLE_ERRNO = new Set(["EIO", "ENOSPC", "EDQUOT", "SQLITE_FULL", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAGAIN", "EBUSY", "EHOSTUNREACH", "ENETUNREACH"]);
/** errno codes of failures that need a person: the disk is gone or access is denied. */
const ERRNO_CODES: Record<string, string> = {
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

/** Classify any thrown value into an EngineError with a code and the recoverable flag. */
export function classify(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const errno = (error as NodeJS.ErrnoException)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (errno) {
    const code = ERRNO_CODES[errno] ?? (RECOVERABLE_ERRNO.has(errno) ? "ConnectionLost" : `Os${errno}`);
    return new EngineError(code, message, RECOVERABLE_ERRNO.has(errno));
  }
  return new EngineError("InternalError", message, false);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
