import { EngineError } from "../errors";

/**
 * A storage backend holds named objects (pack files), in the spirit of restic's backends: a small
 * interface, one folder per implementation, behaviour added by wrapping. Every implementation passes the
 * conformance suite in test/conformance/backend-suite.ts, which tests each clause below.
 *
 * Names are relative and use '/' separators (`packs/ab/<id>.pack`); a name leading outside the backend
 * (`..`) is refused. A name that is only a prefix of other names ("packs/ab") is no object.
 */
export interface Backend {
  /**
   * Where the objects are, as a BackendFactory takes it (a directory; a container's URL): messages name
   * it, and agents on other hosts open their own backend on it (as mounted there).
   */
  readonly where: string;
  /**
   * Store the parts, back to back, as one object, atomically and durably: no reader ever sees part of it
   * (it is absent until it is there whole), and once the promise resolves it survives a crash. An object
   * already under the name is replaced the same way (a reader sees the old one or the new one, whole). A
   * put that fails leaves nothing visible, the old object (if any) as it was, and nothing behind; only a
   * writer that dies part-way leaves something, and that is a leftover, never an object.
   */
  put(name: string, parts: Buffer[]): Promise<void>;
  /**
   * Read the whole object; or from `offset` to its end; or exactly `length` bytes from `offset`. A range
   * that does not lie within the object rejects as a short read (errno EIO, "short read" in the message),
   * which verify counts as damage. A missing object rejects with ObjectMissing (objectMissing below).
   * Reads see the store as it is now, also for an object read before and replaced or deleted since.
   */
  get(name: string, offset?: number, length?: number): Promise<Buffer>;
  /** Whether there is an object of that name. */
  has(name: string): Promise<boolean>;
  /** An object's size and age, or undefined when there is none. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /**
   * The objects whose names start with prefix (a string prefix: "packs" also matches "packsake"), with
   * their sizes and ages, in no set order. Objects being written and leftovers are not listed.
   */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * What interrupted writes left behind (temporary objects no reader sees: not listed, no object for
   * get/stat/has), with sizes and ages; `delete` removes them by these names. Garbage collection drops
   * those older than a writer could still be using.
   */
  leftovers(): Promise<ObjectInfo[]>;
  /** Remove an object (or a leftover) for every reader. Idempotent: deleting a missing name succeeds. */
  delete(name: string): Promise<void>;
  /** Let go of what the backend holds open (file handles); the objects stay. Closing twice is harmless. */
  close(): Promise<void>;
}

export interface ObjectInfo {
  name: string;
  size: number;
  /** Last modified, epoch ms (the backend's own clock). */
  modifiedAt: number;
}

/** Opens the backend at a location (Backend.where): the vault's store, or an agent's view of it. */
export type BackendFactory = (location: string) => Backend;

/** The named error of a read of a missing object; `detail` keeps the backend's own words (an errno). */
export const objectMissing = (name: string, where: string, detail: string): EngineError =>
  new EngineError("ObjectMissing", `object ${name} is not in the store at ${where} (${detail})`);
