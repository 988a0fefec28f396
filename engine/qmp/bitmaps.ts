import { ConflictError, NotFoundError } from "../errors";
import type { QmpClient } from "./client";
import { blockNode } from "./nodes";

export interface BitmapOptions {
  /** Kept in the qcow2 image across a restart of QEMU (qcow2 only: QEMU refuses it on raw). */
  persistent?: boolean;
  /** Bytes one bit covers: a power of two from 512; QEMU's default follows the image's cluster size (64 KiB). */
  granularity?: number;
}

/** One action of a QMP `transaction`. */
export interface TransactionAction {
  type: string;
  data: Record<string, unknown>;
}

/** Start recording writes to `node` in a new, enabled bitmap. */
export async function addBitmap(client: QmpClient, node: string, name: string, options: BitmapOptions = {}): Promise<void> {
  await client.execute("block-dirty-bitmap-add", addArgs(node, name, options));
}

/** Remove a bitmap (a persistent one from the image too). */
export async function removeBitmap(client: QmpClient, node: string, name: string): Promise<void> {
  await client.execute("block-dirty-bitmap-remove", { node, name });
}

const addArgs = (node: string, name: string, { persistent, granularity }: BitmapOptions) => ({
  node,
  name,
  ...(persistent === undefined ? {} : { persistent }),
  ...(granularity === undefined ? {} : { granularity }),
});

/**
 * The transaction actions of a checkpoint: add `next`, enabled, and disable `current`, so a write lands in
 * exactly one of them (bitmaps.rst, "incremental backups ... with a single transaction"): `current` then
 * holds what changed up to this instant, `next` what changes after it. Without `current` (the first
 * checkpoint of a disk) the actions only add `next` with `options`; with it, `next` takes `current`'s
 * persistence and granularity. Refuses a `current` that cannot vouch for its list: missing (lost with a
 * restart), inconsistent (QEMU was killed), or not recording (already disabled: writes since went elsewhere).
 */
export async function checkpointActions(
  client: QmpClient,
  node: string,
  current: string | undefined,
  next: string,
  options: BitmapOptions = {},
): Promise<TransactionAction[]> {
  const add = (settings: BitmapOptions): TransactionAction => ({ type: "block-dirty-bitmap-add", data: addArgs(node, next, settings) });
  if (current === undefined) return [add(options)];
  const found = (await blockNode(client, node)).dirtyBitmaps.find((b) => b.name === current);
  if (!found) throw new NotFoundError("dirty bitmap", current, "current", `node '${node}' has no dirty bitmap '${current}' (lost: QEMU restarted without it)`);
  if (found.inconsistent) throw new ConflictError(`dirty bitmap '${current}' of node '${node}' is inconsistent (QEMU stopped without saving it)`, "current");
  if (!found.recording) throw new ConflictError(`dirty bitmap '${current}' of node '${node}' is not recording: it cannot be the current checkpoint`, "current");
  return [add({ persistent: found.persistent, granularity: found.granularity }), { type: "block-dirty-bitmap-disable", data: { node, name: current } }];
}

/** Rotate the checkpoint in one transaction (see checkpointActions); all of it happens, or none. */
export async function rotateCheckpoint(client: QmpClient, node: string, current: string, next: string): Promise<void> {
  await client.execute("transaction", { actions: await checkpointActions(client, node, current, next) });
}
