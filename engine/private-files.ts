import { promises as fs, closeSync, openSync, fchmodSync } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { exists } from "./io/exists";

/**
 * A vault holds copies of whole disks: its directories are its owner's only (0700) and so are its files
 * (0600), whatever the process's umask. Modes are set explicitly, since open/mkdir modes are masked.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p where every directory made is 0700; the last one is made 0700 even when it existed. */
export async function makePrivateDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !(await exists(at)); at = path.dirname(at)) missing.unshift(at);
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const made of missing) await fs.chmod(made, PRIVATE_DIR_MODE);
  if (missing.length === 0) await fs.chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Make sure `file` exists and is 0600 before a library creates it with the umask's mode. SQLite gives
 * its -wal and -shm files the mode of the database file, so a catalog made this way stays private.
 */
export function ensurePrivateFile(file: string): void {
  const fd = openSync(file, "a", PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Open a new file for writing as 0600 (the mode is set on the handle, so the umask cannot widen it). */
export async function openPrivate(file: string, flags = "w"): Promise<fs.FileHandle> {
  const handle = await fs.open(file, flags, PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Replace `file` with `text` atomically and durably, 0600: written to a temporary file beside it, fsynced,
 * renamed into place, and the directory fsynced, so a reader never sees half of it.
 */
export async function writePrivateFile(file: string, text: string | Buffer): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await openPrivate(tmp);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
