// Files a daemon keeps beside its vault, which local clients (the CLI, the Pulumi provider) read.
// Kept apart from listen.ts so a reader need not load the server.

/** An admin token the daemon wrote on its first start, readable by its owner only. */
export const LOCAL_TOKEN_FILE = "admin.token";
/** `{url, pid}` of the daemon serving the vault, while it listens. */
export const DAEMON_FILE = "daemon.json";

export interface DaemonRecord {
  url: string;
  pid: number;
}
