import type { FileHandle } from "node:fs/promises";

/** The part of an open file the helpers write through (tests hand in one whose writes go short). */
export type WritableFile = Pick<FileHandle, "writev">;

/**
 * Write every byte of `buffers` to `file` from `position` on. On a full filesystem (and past IOV_MAX
 * buffers) writev may resolve with fewer bytes than asked instead of failing: the rest is written by
 * further calls. A call that writes nothing fails with ENOSPC, which the engine classifies as StoreFull.
 * `what` names the file in that error. Resolves to the bytes written.
 */
export async function writevAll(file: WritableFile, buffers: Buffer[], position: number, what: string): Promise<number> {
  const total = buffers.reduce((sum, b) => sum + b.length, 0);
  let pending = buffers.filter((b) => b.length > 0);
  let written = 0;
  while (pending.length > 0) {
    const { bytesWritten } = await file.writev(pending, position + written);
    if (bytesWritten <= 0) throw noSpace(what, written, total);
    written += bytesWritten;
    pending = after(pending, bytesWritten);
  }
  return written;
}

/** writevAll of one buffer. */
export function writeAll(file: WritableFile, buffer: Buffer, position: number, what: string): Promise<number> {
  return writevAll(file, [buffer], position, what);
}

/** The buffers that remain once `skip` bytes of them are written. */
function after(buffers: Buffer[], skip: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && skip >= buffers[i].length) skip -= buffers[i++].length;
  const rest = buffers.slice(i);
  if (skip > 0) rest[0] = rest[0].subarray(skip);
  return rest;
}

function noSpace(what: string, written: number, total: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`no space left on device: wrote ${written} of ${total} bytes to ${what}`), { code: "ENOSPC" });
}
