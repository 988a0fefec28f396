/**
 * A storage backend holds named objects (pack files), in the spirit of restic's backends: a small
 * interface, one folder per implementation, behaviour added by wrapping. Names use '/' separators.
 */
export interface Backend {
  /** Store an object atomically and durably: after the promise resolves it survives a crash. */
  put(name: string, parts: Buffer[]): Promise<void>;
  /** Read an object, or `length` bytes of it starting at `offset`. */
  get(name: string, offset?: number, length?: number): Promise<Buffer>;
  has(name: string): Promise<boolean>;
  /** An object's size and age, or undefined when there is none. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /** Objects whose names start with prefix, with their sizes. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * What interrupted writes left behind (temporary objects no reader sees), with sizes and ages; `delete`
   * removes them by these names. Garbage collection drops those older than a writer could still be using.
   */
  leftovers(): Promise<ObjectInfo[]>;
  delete(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface ObjectInfo {
  name: string;
  size: number;
  /** Last modified, epoch ms (the backend's own clock). */
  modifiedAt: number;
}
