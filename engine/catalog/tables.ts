import type { Generated } from "kysely";
import type { ActiveSite, FailoverState, ResyncReason, StoredProtectionState } from "../../schema";

/** Row types of the catalog. Times are epoch milliseconds; JSON columns are text. */
export interface Tables {
  meta: { key: string; value: string };
  sites: { id: Generated<number>; name: string; kind: string; path: string | null; created_at: number };
  hosts: {
    id: Generated<number>;
    site_id: number;
    name: string;
    /** Set once an agent registered for the host: its items are replicated by that agent, not the engine. */
    agent_registered_at: number | null;
    last_seen_at: number | null;
  };
  policies: {
    id: Generated<number>;
    name: string;
    copy_frequency: string;
    retention_hours: number;
    app_consistent_hours: number;
    rpo_threshold_minutes: number;
    initial_replication_start: number | null;
    resync_start: string;
    resync_end: string;
    /** Set on a failback policy: the policy it was made for. */
    failback_of: number | null;
    created_at: number;
  };
  items: {
    id: Generated<number>;
    name: string;
    site_id: number;
    host: string | null;
    policy_id: number;
    generation: number;
    os_type: string;
    group_name: string | null;
    hooks: string;
    /** Written only through inventory/item-state-write.ts, as are failover_state, resync_reason and active_site. */
    state: StoredProtectionState;
    resync_reason: ResyncReason | null;
    /** Consecutive failed attempts of the current failure streak. */
    failures: number;
    next_attempt_at: number | null;
    error_code: string | null;
    error_message: string | null;
    error_recoverable: number;
    error_since: number | null;
    last_attempt_at: number | null;
    last_app_point_at: number | null;
    created_at: number;
    /** RecoverySettings as JSON, or null when no recovery target is set. */
    recovery: string | null;
    nics: Generated<string>;
    active_site: Generated<ActiveSite>;
    failover_state: FailoverState | null;
    failover_point: string | null;
    last_drill_at: number | null;
    /** Until when an agent holds the item's current work (initial replication, cycle or resync). */
    lease_until: number | null;
    /** The QMP socket of the QEMU serving the machine (a kvm site): its disks' paths are then block node names. */
    qmp: string | null;
  };
  disks: {
    id: Generated<number>;
    item_id: number;
    name: string;
    path: string;
    os: number;
    excluded: number;
    primary_path: string | null;
    /** The replication state the next delta cycle compares against (see replication/disk-state.ts). */
    state_size: number | null;
    state_xxh: Buffer | null;
    state_chunks: Buffer | null;
    /** Bumped each time the state is saved: an agent's changes apply only to the version it read. */
    state_version: Generated<number>;
    /** The change tracker's checkpoint the state was read at (null: the next cycle reads the whole disk). */
    checkpoint: Generated<string | null>;
    /** Why the last cycle could not follow the change tracker and read the whole disk; null when it followed it. */
    tracking_reset: Generated<string | null>;
  };
  points: {
    id: string;
    item_id: number;
    captured_at: number;
    kind: string;
    group_name: string | null;
    window_id: string | null;
    bytes_read: number;
    blocks_changed: number;
    bytes_stored: number;
    duration_ms: Generated<number>;
  };
  point_disks: { point_id: string; disk_id: number; size: number; block_size: number; chunks: Buffer };
  manifest_chunks: { id: string; data: Buffer };
  blocks: { id: string; pack: string; offset: number; length: number };
  /** Stored copies found damaged by a verify (see migrations/007-damage.ts). */
  damaged_blocks: { id: string; kind: string; reason: string; found_at: number };
  point_damage: { point_id: string; disk_id: number; blocks: number; found_at: number };
  networks: { id: Generated<number>; name: string; site_id: number; subnets: string };
  network_mappings: { source: string; target_id: number };
  ip_allocations: { network_id: number; purpose: string; ip: string; machine_id: number };
  machines: {
    id: Generated<number>;
    item_id: number;
    /** "failover" (the recovered machine) or "drill" (a test copy). */
    purpose: string;
    dir: string;
    point_id: string;
    description: string;
    pid: number | null;
    state: string;
    created_at: number;
  };
  drills: {
    id: string;
    item_id: number;
    machine_id: number | null;
    point_id: string;
    started_at: number;
    cleaned_at: number | null;
    notes: string | null;
    report: string;
  };
  tokens: {
    id: Generated<number>;
    name: string;
    sha256: string;
    role: string;
    created_at: number;
    expires_at: number | null;
    revoked_at: number | null;
    host: string | null;
  };
  plans: { id: Generated<number>; name: string; spec: string; created_at: number };
  /** A file being written outside the vault (see replication/partial-outputs.ts). */
  partial_outputs: { path: string; host: string; pid: number; started_at: number };
  jobs: {
    id: string;
    type: string;
    target: string;
    state: string;
    created_at: number;
    started_at: number | null;
    ended_at: number | null;
    error_code: string | null;
    error_message: string | null;
    result: string | null;
    cancel_requested: Generated<number>;
    /** The process running the job (see process/owner.ts); null while an agent holds it (the item's lease) or before owners were recorded. */
    owner_host: string | null;
    owner_pid: number | null;
    /** The owner's boot id and start time (/proc/<pid>/stat field 22): a reused pid has another. */
    owner_start: string | null;
  };
  /** An item's history: what happened to it outside the jobs it ran (newest last). */
  item_events: { id: Generated<number>; item_id: number; at: number; code: string; message: string };
  tasks: {
    id: Generated<number>;
    job_id: string;
    parent_id: number | null;
    seq: number;
    name: string;
    state: string;
    progress: number;
    detail: string | null;
    started_at: number | null;
    ended_at: number | null;
    error_message: string | null;
  };
}
