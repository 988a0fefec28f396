/** A byte range of a disk. */
export interface Extent {
  offset: number;
  length: number;
}

/** Why the changes since the last committed checkpoint cannot be known: the cycle must read the whole disk. */
export interface Resync {
  resync: string;
}

/**
 * What changed on the disk between the last committed capture and this one, at the tracker's granularity
 * (whole tracked blocks: a superset of the bytes written, never a subset), in order and not overlapping;
 * or a Resync naming why no such list exists (no checkpoint yet, a lost or untrustworthy one).
 */
export type Changes = Extent[] | Resync;

export const isResync = (changes: Changes): changes is Resync => !Array.isArray(changes);

/**
 * One point-in-time view of a disk, taken at the capture instant: while it is open the disk keeps taking
 * writes, and the view does not move. Exactly one of commit() or abandon() ends it.
 */
export interface Capture {
  /** The disk's size in bytes at the capture instant. */
  readonly size: number;
  /** The blocks changed since the last committed capture (the whole disk is to be read on a Resync). */
  readonly changed: Changes;
  /**
   * The checkpoint this capture commits: stored with the replica it produced, and given back to the tracker
   * of a later process so it continues from there.
   */
  readonly checkpoint: string;
  /** `length` bytes of the view at `offset` (into `into` from its start when given). */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /**
   * The replica holds this view durably: the next capture lists only what changed after this one's instant.
   * If it rejects (QEMU went away) the capture has ended all the same; the next capture reads whatever the node
   * shows, and resyncs unless that is exactly the committed checkpoint.
   */
  commit(): Promise<void>;
  /**
   * The cycle failed: the next capture lists this one's changes as well as the later ones, so nothing
   * written between two committed captures is ever missed. When that cannot be ensured (the disk's server
   * is gone), the next capture is a Resync; abandon() itself does not reject.
   */
  abandon(): Promise<void>;
}

/**
 * Tracks one disk's changes for the engine's replication cycle: begin() a capture, read `changed` (or the
 * whole disk on a Resync) from it, then commit() once the replica is durable, or abandon(). One capture at a
 * time. The engine's full scan stays its default and fallback; a tracker only makes a cycle cheaper.
 */
export interface ChangeTracker {
  begin(): Promise<Capture>;
}
