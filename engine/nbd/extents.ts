import type { NbdClient } from "./client";

/** The meta context of a QEMU dirty bitmap exported over NBD (qemu-nbd -B NAME, or nbd-server-add bitmap=NAME). */
export const dirtyBitmapContext = (bitmap: string): string => `qemu:dirty-bitmap:${bitmap}`;

/** In a dirty bitmap's context, flag 1 marks a dirty extent. */
const DIRTY = 1;

/**
 * Every dirty range of the bitmap over the whole export, in order, adjacent ranges merged: what changed
 * since the bitmap was cleared, at the bitmap's granularity. The client must have been connected with the
 * bitmap's context (NbdContextUnavailable otherwise: the bitmap is not exported, the tracker's cue to resync).
 */
export async function changedExtents(client: NbdClient, bitmap: string): Promise<Array<{ offset: number; length: number }>> {
  const extents = await client.blockStatus(dirtyBitmapContext(bitmap), 0, client.size);
  const changed: Array<{ offset: number; length: number }> = [];
  for (const extent of extents) {
    if (!(extent.flags & DIRTY)) continue;
    const last = changed[changed.length - 1];
    if (last && last.offset + last.length === extent.offset) last.length += extent.length;
    else changed.push({ offset: extent.offset, length: extent.length });
  }
  return changed;
}
