import { z } from "zod";
import { Health } from "./common";
import { ErrorCode, storedErrorCode } from "./errors";
import { SiteKind } from "./site";
import { CopyFrequency, ResyncWindow } from "./policy";
import { Hooks } from "./item";
import { NetworkMappingSpec, RecoverySettings } from "./recovery";
import { PlanSpec } from "./plan";
import { ActiveSite, FailoverState, JobState, JobType, PointKind, ProtectionState } from "./state";
import { AgentWorkMode } from "./agent";

/*
 * What the API answers: every route's response, as the engine returns it. The engine's, the client's and
 * the provider's types are these schemas' (z.infer), so there is one definition of the wire; in tests the
 * server checks every answer against its route's schema.
 */

const Iso = z.string().meta({ description: "an ISO 8601 time" });
const Count = z.number().int().min(0);

/** DELETE of a site, policy, network, mapping or plan. */
export const Deleted = z.strictObject({ deleted: z.string() });
export type Deleted = z.infer<typeof Deleted>;

export const SiteView = z.strictObject({ name: z.string(), kind: SiteKind, path: z.string().nullable(), hosts: z.array(z.string()) });
export type SiteView = z.infer<typeof SiteView>;
export const SiteList = z.array(SiteView);

export const PolicyView = z.strictObject({
  name: z.string(),
  copyFrequency: CopyFrequency,
  retentionHours: z.number(),
  appConsistentHours: z.number(),
  rpoThresholdMinutes: z.number(),
  initialReplicationStart: Iso.nullable(),
  resyncWindow: ResyncWindow,
  /** For a failback policy: the policy it reverses. */
  failbackOf: z.string().nullable(),
});
export type PolicyView = z.infer<typeof PolicyView>;
export const PolicyList = z.array(PolicyView);
/** POST /v1/policies: the policy and the failback policy made with it. */
export const PolicyAdded = z.strictObject({ policy: PolicyView, failback: PolicyView });
export type PolicyAdded = z.infer<typeof PolicyAdded>;

export const NetworkView = z.strictObject({ name: z.string(), site: z.string(), subnets: z.array(z.string()) });
export type NetworkView = z.infer<typeof NetworkView>;
export const NetworkList = z.array(NetworkView);
export const NetworkMappingList = z.array(NetworkMappingSpec);
export const PlanList = z.array(PlanSpec);

/** Codes an item's history records for what happened to it outside its jobs. */
export const ItemEventCode = z.enum(["JobInterrupted", "WindowClosedAfterCrash"]);
export type ItemEventCode = z.infer<typeof ItemEventCode>;
export const ItemEvent = z.strictObject({ at: Iso, code: ItemEventCode, message: z.string() });
export type ItemEvent = z.infer<typeof ItemEvent>;

/**
 * Why an item's health is not Normal: the error its replication last failed with (an error code), or a
 * condition derived when asked. A closed set, like the error codes.
 */
export const HealthCode = z.enum([...ErrorCode.options, "ResyncRequired", "NoRecoveryPoint", "RpoThresholdExceeded", "AgentSilent", "TrackingReset"]);
export type HealthCode = z.infer<typeof HealthCode>;
/** A code read back from an item row (rows written by an older version may hold retired codes). */
export const storedHealthCode = (value: string): HealthCode => (HealthCode.safeParse(value).success ? (value as HealthCode) : storedErrorCode(value));
export const HealthError = z.strictObject({ code: HealthCode, message: z.string(), since: Iso.nullable(), recoverable: z.boolean() });
export type HealthError = z.infer<typeof HealthError>;

export const ItemStatus = z.strictObject({
  name: z.string(),
  site: z.string(),
  host: z.string().nullable(),
  policy: z.string(),
  group: z.string().nullable(),
  generation: z.number().int(),
  osType: z.string(),
  state: ProtectionState,
  health: Health,
  healthErrors: z.array(HealthError),
  /** now − capture time of the latest point; null before the first point. */
  rpoSeconds: z.number().nullable(),
  rpoThresholdSeconds: z.number(),
  latestPoint: z.strictObject({ id: z.string(), capturedAt: Iso, kind: PointKind }).nullable(),
  lastAppConsistentAt: Iso.nullable(),
  points: Count,
  resyncRequired: z.string().nullable(),
  failures: Count,
  nextAttemptAt: Iso.nullable(),
  /** The QMP socket of the QEMU serving the machine (a kvm site), or null. */
  qmp: z.string().nullable(),
  /**
   * path: what replication reads now (the recovery machine's disk while it replicates back; a block node of
   * the machine's QEMU when `tracking` is "dirty-bitmap"); primaryPath: the declared primary disk then.
   */
  disks: z.array(
    z.strictObject({
      name: z.string(),
      path: z.string(),
      primaryPath: z.string().nullable(),
      os: z.boolean(),
      excluded: z.boolean(),
      replicatedSize: z.number().nullable(),
      /** How a cycle finds the changes: QEMU's dirty bitmap, or a scan of the whole disk (checksums). */
      tracking: z.enum(["dirty-bitmap", "scan"]),
      /** The tracker's checkpoint the replica was read at (null: the next cycle reads the whole disk). */
      checkpoint: z.string().nullable(),
      /** Why the last cycle could not follow the tracker and read the whole disk (null when it followed it). */
      trackingReset: z.string().nullable(),
    }),
  ),
  /** The names of its hooks (never the commands). */
  hooks: z.array(z.string()),
  activeSite: ActiveSite,
  failoverState: FailoverState.nullable(),
  failoverPoint: z.string().nullable(),
  lastDrillAt: Iso.nullable(),
  /** No drill has succeeded (cleanup included) in 180 days, or since protection began that long ago. */
  drillRecommended: z.boolean(),
  recoveryMachine: z.strictObject({ name: z.string(), dir: z.string(), state: z.string(), ip: z.string().nullable() }).nullable(),
  /** Its drill not cleaned up yet, if any. */
  drill: z.strictObject({ id: z.string(), startedAt: Iso }).nullable(),
  /** The source NICs and the recovery settings, as the engine holds them. */
  nics: z.array(z.strictObject({ network: z.string(), ip: z.string().optional() })),
  recovery: RecoverySettings.nullable(),
  /** The agent that reads the machine, when its host has one; null when the engine reads it. */
  agent: z.strictObject({ host: z.string(), lastSeenAt: Iso.nullable(), silent: z.boolean() }).nullable(),
  /** What happened to it outside its jobs, newest first: jobs interrupted by a crash, windows closed after one. */
  history: z.array(ItemEvent),
});
export type ItemStatus = z.infer<typeof ItemStatus>;

export const DiskDamage = z.strictObject({
  disk: z.string(),
  /** Damaged blocks (or manifest chunks) the disk's manifest at this point relies on. */
  blocks: Count,
});
export type DiskDamage = z.infer<typeof DiskDamage>;

export const PointView = z.strictObject({
  id: z.string(),
  item: z.string(),
  capturedAt: Iso,
  kind: PointKind,
  /** Replication group, and the window shared by the group's points captured together (multi-VM consistency). */
  group: z.string().nullable(),
  windowId: z.string().nullable(),
  bytesRead: Count,
  blocksChanged: Count,
  bytesStored: Count,
  disks: z.array(z.strictObject({ name: z.string(), size: Count })),
  /** Verify found blocks this point relies on damaged: it cannot be restored (failover, drills and materialize refuse it). */
  damaged: z.boolean(),
  /** The disks with damage, and how many of their blocks. */
  damagedDisks: z.array(DiskDamage),
});
export type PointView = z.infer<typeof PointView>;
export const PointList = z.array(PointView);

export const RpoSample = z.strictObject({ t: Iso, rpoSeconds: z.number() });
export type RpoSample = z.infer<typeof RpoSample>;
export const RpoHistory = z.strictObject({
  item: z.string(),
  from: Iso,
  to: Iso,
  rpoThresholdSeconds: z.number(),
  /** True when the window held more samples than asked for and they were thinned. */
  decimated: z.boolean(),
  samples: z.array(RpoSample),
});
export type RpoHistory = z.infer<typeof RpoHistory>;

export interface TaskView {
  id: number;
  name: string;
  state: JobState;
  progress: number;
  detail: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  children: TaskView[];
}
/** One task of a job's tree (a tree: its type is written out, zod cannot infer a recursive one). */
export const TaskView: z.ZodType<TaskView> = z.lazy(() =>
  z.strictObject({
    id: z.number().int(),
    name: z.string(),
    state: JobState,
    progress: z.number(),
    detail: z.string().nullable(),
    startedAt: Iso.nullable(),
    endedAt: Iso.nullable(),
    error: z.string().nullable(),
    children: z.array(TaskView),
  }),
);

export const JobView = z.strictObject({
  id: z.string(),
  type: JobType,
  target: z.string(),
  state: JobState,
  createdAt: Iso,
  startedAt: Iso.nullable(),
  endedAt: Iso.nullable(),
  durationMs: z.number().nullable(),
  error: z.strictObject({ code: ErrorCode, message: z.string() }).nullable(),
  /** What the job produced: its own shape per job type. */
  result: z.unknown(),
  /** The process running it (while InProgress); null while an agent holds it. */
  owner: z.strictObject({ host: z.string(), pid: z.number().int() }).nullable(),
  tasks: z.array(TaskView),
});
export type JobView = z.infer<typeof JobView>;
export const JobList = z.array(JobView);

export const RegistrationKeyState = z.strictObject({ createdAt: Iso, expiresAt: Iso, expired: z.boolean(), revokedAt: Iso.nullable() });
export type RegistrationKeyState = z.infer<typeof RegistrationKeyState>;

/** How a vault's data is kept at rest. */
export const VaultEncryption = z.strictObject({
  cipher: z.enum(["aes-256-gcm", "none"]),
  /** Where the key-encryption key came from (never the key); null for an unencrypted vault. */
  key: z.string().nullable(),
});
export type VaultEncryption = z.infer<typeof VaultEncryption>;

export const VaultInfo = z.strictObject({
  dir: z.string(),
  id: z.string(),
  createdAt: Iso,
  registrationKey: RegistrationKeyState,
  /** How blocks and manifests are kept at rest, and where the key-encryption key came from. */
  encryption: VaultEncryption,
});
export type VaultInfo = z.infer<typeof VaultInfo>;

export const StoreStats = z.strictObject({
  blocks: Count,
  /** Bytes the blocks take in the store (after compression). */
  storedBytes: Count,
  /** Bytes of the pack files, including space not yet reclaimed. */
  packBytes: Count,
  /** Bytes in the store no index entry refers to (orphan packs, deleted blocks' space, temporary files). */
  unreferencedBytes: Count,
});
export type StoreStats = z.infer<typeof StoreStats>;

export const VaultStatus = z.strictObject({
  vault: z.strictObject({ dir: z.string(), id: z.string(), registrationKey: RegistrationKeyState, store: StoreStats, encryption: VaultEncryption }),
  items: z.array(ItemStatus),
});
export type VaultStatus = z.infer<typeof VaultStatus>;

/** POST /v1/tokens: the token, shown once. */
export const TokenIssued = z.strictObject({ name: z.string(), token: z.string() });
export type TokenIssued = z.infer<typeof TokenIssued>;
export const TokenRevoked = z.strictObject({ name: z.string(), revoked: z.literal(true) });
export const RegistrationKeyIssued = z.strictObject({ registrationKey: z.string() });
export const RegistrationKeyRevoked = z.strictObject({ revoked: z.literal(true) });
export const CancelRequested = z.strictObject({ job: z.string(), cancelRequested: z.literal(true) });

// Agents

export const AgentIdentity = z.strictObject({
  host: z.string(),
  site: z.string(),
  /** The agent's bearer token (shown once). */
  token: z.string(),
  /** Where the engine keeps the block store; the agent writes packs there (as mounted on its host). */
  storeDir: z.string(),
  blockSize: z.number().int().positive(),
  heartbeatMs: z.number().int().positive(),
});
export type AgentIdentity = z.infer<typeof AgentIdentity>;

export const AgentWork = z.strictObject({
  mode: AgentWorkMode,
  appConsistent: z.boolean(),
  items: z.array(
    z.strictObject({
      name: z.string(),
      hooks: Hooks,
      disks: z.array(
        z.strictObject({
          name: z.string(),
          /** A file on the agent's host, or (with `tracked`) a block node of the QEMU at `tracked.qmp`. */
          path: z.string(),
          stateVersion: Count,
          /** A disk served by QEMU on the agent's host: read through its dirty bitmap from this checkpoint (null: read it whole). */
          tracked: z.strictObject({ qmp: z.string(), checkpoint: z.string().nullable() }).optional(),
        }),
      ),
    }),
  ),
});
export type AgentWork = z.infer<typeof AgentWork>;

export const HeartbeatAnswer = z.strictObject({
  /** The engine's clock, so the agent can stamp captures with it. */
  now: z.number(),
  heartbeatMs: z.number().int().positive(),
  work: z.array(AgentWork),
});
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswer>;

export const AgentDataKey = z.strictObject({ dataKey: z.string().nullable() });
export type AgentDataKey = z.infer<typeof AgentDataKey>;

/** A disk's blocks as base64 text: the map's buffers travel packed, not as JSON arrays. */
export const EncodedMap = z.strictObject({ size: Count, blockSize: z.number().int().positive(), ids: z.string(), hashes: z.string() });
export type EncodedMap = z.infer<typeof EncodedMap>;
export const DiskStateView = z.strictObject({ version: Count, map: EncodedMap.nullable() });
export type DiskStateView = z.infer<typeof DiskStateView>;

/** Where a block lies in the store: a byte range of a pack file. */
export const IndexEntry = z.strictObject({ id: z.string(), pack: z.string(), offset: Count, length: Count });
export type IndexEntry = z.infer<typeof IndexEntry>;
export const BlockLookupAnswer = z.strictObject({ blocks: z.array(IndexEntry) });
export const WindowRecorded = z.strictObject({ points: PointList });
export const FailureRecorded = z.strictObject({ recorded: z.literal(true) });
