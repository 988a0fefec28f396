import { z } from "zod";

/** What the API, the CLI and the retry logic need to know of an error code. */
interface ErrorSpec {
  /** HTTP status of an API answer carrying this code. */
  status: number;
  /** Whether the failure may go away by itself: replication retries it with back-off instead of stopping. */
  retryable: boolean;
  meaning: string;
}

/**
 * Every error code Lifeboat raises (engine, agent, CLI, client, provider), defined once. A code names one
 * kind of failure; details (an errno, a block id, a property) go in the message or the field.
 */
export const ERRORS = {
  // Bad input and access
  InvalidInput: { status: 400, retryable: false, meaning: "the input is invalid; the field or failures name the property" },
  BadRequest: { status: 400, retryable: false, meaning: "the HTTP request itself is malformed (not JSON, too large); the framework's 4xx status is kept" },
  Unauthorized: { status: 401, retryable: false, meaning: "no token, or an unknown, expired or revoked one; or a refused agent registration key" },
  Forbidden: { status: 403, retryable: false, meaning: "the token's role or host may not do this" },
  // Objects and their state
  NotFound: { status: 404, retryable: false, meaning: "the named object (or route) does not exist" },
  AlreadyExists: { status: 409, retryable: false, meaning: "the object to create is already there" },
  Conflict: { status: 409, retryable: false, meaning: "the object's state does not allow the operation now" },
  SiteInUse: { status: 409, retryable: false, meaning: "a site to remove still has users" },
  PolicyInUse: { status: 409, retryable: false, meaning: "a policy to remove still has users" },
  NetworkInUse: { status: 409, retryable: false, meaning: "a network to remove still has users" },
  HostInUse: { status: 409, retryable: false, meaning: "a host to remove still runs machines" },
  IpAddressInUse: { status: 409, retryable: false, meaning: "a static recovery address is taken in its network" },
  // 409: the request conflicts with the network's state now (every address taken), not a fault of the engine.
  SubnetFull: { status: 409, retryable: true, meaning: "a recovery subnet has no free address (frees up when machines leave)" },
  NoRecoveryTarget: { status: 409, retryable: false, meaning: "the machine has no recovery settings" },
  NoRecoveryPoint: { status: 409, retryable: false, meaning: "no recovery point fits the request" },
  // Vault and keys
  // 404: the named object (a vault directory) does not exist, as NotFound.
  VaultNotFound: { status: 404, retryable: false, meaning: "no vault at the directory" },
  VaultBusy: { status: 503, retryable: true, meaning: "another process holds the vault's lock" },
  NotEncrypted: { status: 409, retryable: false, meaning: "the vault has no data key (it predates encryption at rest)" },
  // 401: a credential that does not open the vault, as a refused token or registration key.
  WrongKey: { status: 401, retryable: false, meaning: "the key given is not the vault's key" },
  KeyDamaged: { status: 500, retryable: false, meaning: "the vault's wrapped data key is damaged" },
  KeyNotFound: { status: 500, retryable: false, meaning: "the key file of an encrypted vault does not exist" },
  InsecureKeyFile: { status: 500, retryable: false, meaning: "the key file is readable or writable by others" },
  KeyUnavailable: { status: 500, retryable: false, meaning: "the key command failed" },
  InvalidKey: { status: 500, retryable: false, meaning: "the key source does not hold a well-formed key" },
  // Stored data
  BlockMissing: { status: 409, retryable: false, meaning: "a block a point or an agent's report relies on is not in the store" },
  BlockDamaged: { status: 500, retryable: false, meaning: "a stored block fails authentication or decompression" },
  ObjectMissing: { status: 500, retryable: false, meaning: "an object of the store's backend (a pack) is not there: deleted, or never written whole" },
  ChainBroken: { status: 500, retryable: false, meaning: "a manifest or change map is missing or damaged; the machine needs a resync" },
  PointDamaged: { status: 500, retryable: false, meaning: "the recovery point chosen is damaged (found by verify)" },
  ReplicaDamaged: { status: 500, retryable: false, meaning: "the latest recovery point is damaged, so the operation could not write it" },
  // Operations and jobs
  HookFailed: { status: 500, retryable: true, meaning: "a pause/resume or quiesce/unquiesce hook failed" },
  SourceUnreachable: { status: 500, retryable: false, meaning: "a planned failover could not shut down or drain its source" },
  StartFailed: { status: 500, retryable: false, meaning: "a recovered machine's start command exited" },
  HealthCheckFailed: { status: 500, retryable: false, meaning: "a recovered machine did not pass its health check in time" },
  StepFailed: { status: 500, retryable: false, meaning: "a recovery plan step did not run because an earlier one failed" },
  PlanGroupFailed: { status: 500, retryable: false, meaning: "a group of a recovery plan had failures" },
  PlanFailed: { status: 500, retryable: false, meaning: "a recovery plan ended with failures" },
  Failed: { status: 500, retryable: false, meaning: "a job waited for ended without success and recorded no error" },
  Interrupted: { status: 500, retryable: false, meaning: "the engine stopped while the job ran" },
  DeadlineExceeded: {
    status: 504,
    retryable: true,
    meaning: "a replication cycle did not finish within its deadline (a disk or the store hangs) and was abandoned",
  },
  // QEMU's monitor (engine/qmp/): a closed QMP socket is ConnectionLost
  QmpCommandFailed: {
    status: 502,
    retryable: false,
    meaning: "QEMU refused or failed a QMP command, or a job it ran; QMP's error class and description are in the message",
  },
  QmpProtocolError: { status: 502, retryable: false, meaning: "the QMP socket's peer does not speak QMP (no greeting, a line that is not a JSON object)" },
  // Operating system and connections (from classify: the errno is kept in the message)
  DiskNotFound: { status: 500, retryable: false, meaning: "a disk or file is gone (ENOENT, ENODEV, ENXIO)" },
  AccessDenied: { status: 500, retryable: false, meaning: "access to a disk or file is denied (EACCES, EPERM)" },
  IoError: { status: 500, retryable: true, meaning: "an I/O error, or a write that left a file short" },
  StoreFull: { status: 500, retryable: true, meaning: "the store's or catalog's filesystem is full" },
  ConnectionLost: { status: 500, retryable: true, meaning: "a connection failed or timed out (the engine, a peer, a busy resource)" },
  OsError: { status: 500, retryable: false, meaning: "another operating-system error; its errno is in the message" },
  // NBD client (engine/nbd): what a server answered that the protocol does not allow, or an option it refused.
  NbdProtocolError: {
    status: 502,
    retryable: false,
    meaning: "an NBD server broke the protocol (a malformed or short reply); the message says what was wrong",
  },
  NbdRefused: {
    status: 502,
    retryable: false,
    meaning: "an NBD server refused a negotiation option (TLS required, policy); the message names the option and the reason",
  },
  NbdContextUnavailable: {
    status: 409,
    retryable: false,
    meaning: "an NBD server does not offer a meta context asked for (a dirty bitmap that is gone or not exported): changes must be found by a resync",
  },
  UnexpectedResponse: {
    status: 502,
    retryable: false,
    meaning: "the engine's endpoint answered an error without Lifeboat's error body (a proxy, not a Lifeboat daemon)",
  },
  InternalError: { status: 500, retryable: false, meaning: "an unexpected failure of the engine; see its log" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;
export const ErrorCode = z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]);

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === "string" && Object.hasOwn(ERRORS, value);

/** Codes an older version stored in job rows, and their closed form. */
const LEGACY_CODE = (value: string): ErrorCode | undefined => (value === "BlocksMissing" ? "BlockMissing" : value.startsWith("Os") ? "OsError" : undefined);

/** A code read back from storage (rows written by an older version may hold retired codes). */
export const storedErrorCode = (value: string): ErrorCode => (isErrorCode(value) ? value : (LEGACY_CODE(value) ?? "InternalError"));

/** The API's error body: one shape for every failure, never a stack trace. */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    field: z.string().optional(),
    /** For InvalidInput: what the input was ("protected item"), and each failing property. */
    what: z.string().optional(),
    failures: z.array(z.object({ property: z.string(), reason: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * A failure with a stable code. Whether it is recoverable (retried with back-off) or not (health Critical,
 * no retry until resolved, as ASR does) comes from the code; `recoverable` overrides it only where the
 * same code is retryable in one place and not in another.
 */
export class EngineError extends Error {
  readonly recoverable: boolean;
  readonly field?: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { field?: string; recoverable?: boolean } = {},
  ) {
    super(message);
    this.name = "EngineError";
    this.recoverable = options.recoverable ?? ERRORS[code].retryable;
    this.field = options.field;
  }
}
