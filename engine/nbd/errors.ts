import { EngineError, type ErrorCode } from "../../schema/errors";
import { NBD_ERRNO } from "./protocol";

/** Where the client talks to, as its errors name it: `NBD server at socket /run/x.sock` or `at 127.0.0.1:10809`. */
export type ServerName = string;

/** The server broke the protocol: `what` says how (a bad magic, a short reply, a chunk outside its request). */
export const protocolError = (server: ServerName, what: string): EngineError => new EngineError("NbdProtocolError", `${server}: protocol error: ${what}`);

/** The connection is gone: every request still waiting gets this. */
export const connectionLost = (server: ServerName, what: string): EngineError => new EngineError("ConnectionLost", `${server}: ${what}`);

/** errno values of a command's error reply that have a code of their own; the rest are OsError with the errno named. */
const COMMAND_ERRNO_CODES: Partial<Record<string, ErrorCode>> = {
  EIO: "IoError",
  EPERM: "AccessDenied",
  ENOSPC: "StoreFull",
  ESHUTDOWN: "ConnectionLost",
};

/** A command the server answered with an error: its errno by name, what was asked, and the server's message. */
export function commandError(server: ServerName, errno: number, request: string, message: string): EngineError {
  const name = NBD_ERRNO[errno] ?? `errno ${errno}`;
  const code = COMMAND_ERRNO_CODES[name] ?? "OsError";
  return new EngineError(code, `${server}: ${request} failed: ${name}${message ? `: ${message}` : ""}`);
}
