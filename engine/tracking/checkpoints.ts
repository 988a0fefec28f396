import type { DirtyBitmap } from "../qmp";

/** The tracker's checkpoint bitmaps are `lifeboat-<n>`, n counting up (QEMU allows names of 31 characters). */
const PREFIX = "lifeboat-";
const NAME = /^lifeboat-(\d+)$/;

export const checkpointName = (n: number): string => `${PREFIX}${n}`;

/** Whether a bitmap is one of the tracker's checkpoints. */
export const isCheckpoint = (name: string): boolean => NAME.test(name);

const number = (name: string): number | undefined => {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
};

/** A node's checkpoint, as found on it: one to rotate from, or why there is none to trust. */
export type CheckpointState = {
  /** Every bitmap of ours on the node (removed before a fresh checkpoint). */
  ours: DirtyBitmap[];
  /** The name of the checkpoint this capture starts. */
  next: string;
} & ({ current: DirtyBitmap } | { resync: string });

/**
 * Judge a node's bitmaps. Between two captures the node holds exactly one of ours, recording and consistent:
 * every write since the last committed capture is in it. Anything else means that list cannot be trusted.
 * `expected` is the checkpoint the tracker last committed (undefined when it knows of none).
 */
export function checkpointState(bitmaps: DirtyBitmap[], expected: string | undefined, node: string): CheckpointState {
  const ours = bitmaps.filter((b) => number(b.name) !== undefined).sort((a, b) => (number(a.name) ?? 0) - (number(b.name) ?? 0));
  const highest = Math.max(0, ...ours.map((b) => number(b.name) ?? 0), expected === undefined ? 0 : (number(expected) ?? 0));
  const next = checkpointName(highest + 1);
  const resync = (reason: string) => ({ resync: reason, ours, next });
  const names = ours.map((b) => `'${b.name}'`).join(", ");
  if (ours.length === 0) {
    return resync(expected === undefined ? "no checkpoint yet" : `checkpoint bitmap '${expected}' of node '${node}' is lost (QEMU restarted without it)`);
  }
  if (ours.length > 1) return resync(`node '${node}' has ${ours.length} checkpoint bitmaps (${names}): a capture was neither committed nor abandoned`);
  const [current] = ours as [DirtyBitmap];
  if (current.inconsistent) return resync(`checkpoint bitmap '${current.name}' of node '${node}' is inconsistent (QEMU stopped without saving it)`);
  if (!current.recording) return resync(`checkpoint bitmap '${current.name}' of node '${node}' is not recording (a rotation that did not complete)`);
  if (expected !== undefined && current.name !== expected) {
    return resync(`node '${node}' has checkpoint bitmap '${current.name}', not '${expected}' as last committed (a rotation that did not happen)`);
  }
  return { current, ours, next };
}
