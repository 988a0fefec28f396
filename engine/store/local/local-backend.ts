import { promises as fs } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { objectMissing, type Backend, type BackendFactory, type ObjectInfo } from "../backend";
import { openPrivate, PRIVATE_DIR_MODE, syncDir } from "../../private-files";
import { writevAll } from "../../io/write-all";
import { unlessMissing } from "../../io/exists";

const MAX_OPEN_FILES = 64;
/** Objects are written under this suffix, then renamed: a file with it is an interrupted write. */
const TEMP_SUFFIX = ".tmp";
/** errno codes of a read whose name is no file: nothing there, or a folder of other objects. */
const NO_OBJECT = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

/** Objects as files under a root directory; writes go to a temp file, are fsynced and renamed into place. */
export class LocalBackend implements Backend {
  private readonly open = new Map<string, Promise<fs.FileHandle>>();

  constructor(private readonly root: string) {}

  get where(): string {
    return this.root;
  }

  private file(name: string): string {
    const resolved = path.resolve(this.root, name);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`object name escapes the store: ${name}`);
    return resolved;
  }

  async put(name: string, parts: Buffer[]): Promise<void> {
    const target = this.file(name);
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const tmp = `${target}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
    try {
      const handle = await this.create(tmp);
      try {
        const length = await writevAll(handle, parts, 0, tmp);
        await handle.sync();
        // The object takes its name only once its whole length is durable.
        const { size } = await handle.stat();
        if (size !== length) throw Object.assign(new Error(`${tmp} holds ${size} of ${length} bytes after it was synced`), { code: "EIO" });
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, target);
    } catch (error) {
      // A half-written object must not hold on to the space a full disk needs for the retry.
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw error;
    }
    await syncDir(dir);
  }

  /** Open a new file for writing (tests override it to make writes short, as a full filesystem does). */
  protected create(file: string): Promise<fs.FileHandle> {
    return openPrivate(file);
  }

  async get(name: string, offset = 0, length?: number): Promise<Buffer> {
    try {
      return await this.read(name, offset, length);
    } catch (error) {
      if (NO_OBJECT.has((error as NodeJS.ErrnoException).code ?? "")) throw objectMissing(name, this.root, (error as Error).message);
      throw error;
    }
  }

  private async read(name: string, offset: number, length: number | undefined): Promise<Buffer> {
    if (length === undefined) {
      const whole = await fs.readFile(this.file(name));
      if (offset > whole.length) throw shortRead(name, offset, `the object holds ${whole.length} bytes`);
      return offset ? whole.subarray(offset) : whole;
    }
    let handle = await this.handle(name);
    let stats = await handle.stat();
    // A kept handle may be of a file deleted (or replaced) since: read what the store holds now, so a lost pack shows.
    if (stats.nlink === 0) {
      this.closeOne(name);
      handle = await this.handle(name);
      stats = await handle.stat();
    }
    if (!stats.isFile()) throw Object.assign(new Error(`${name} is a folder of objects`), { code: "EISDIR" });
    if (offset > stats.size) throw shortRead(name, offset, `0 of ${length} bytes`);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead !== length) throw shortRead(name, offset, `${bytesRead} of ${length} bytes`);
    return buffer;
  }

  private handle(name: string): Promise<fs.FileHandle> {
    let handle = this.open.get(name);
    if (!handle) {
      if (this.open.size >= MAX_OPEN_FILES) this.closeOne(this.open.keys().next().value!);
      handle = fs.open(this.file(name), "r");
      handle.catch(() => this.open.delete(name));
      this.open.set(name, handle);
    }
    return handle;
  }

  private closeOne(name: string): void {
    const handle = this.open.get(name);
    this.open.delete(name);
    handle?.then((h) => h.close()).catch(() => undefined);
  }

  async has(name: string): Promise<boolean> {
    return (await this.stat(name)) !== undefined;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    return (await this.filesMatching((file) => !file.endsWith(TEMP_SUFFIX))).filter((o) => o.name.startsWith(prefix));
  }

  /** Temporary files of writes that never finished (their writer was killed). */
  leftovers(): Promise<ObjectInfo[]> {
    return this.filesMatching((file) => file.endsWith(TEMP_SUFFIX));
  }

  /** Every file under the root that `wanted` accepts (by its file name), with its size and age. */
  private async filesMatching(wanted: (file: string) => boolean): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const visit = async (dir: string): Promise<void> => {
      const entries = (await unlessMissing(fs.readdir(dir, { withFileTypes: true }))) ?? [];
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await visit(full);
        else if (wanted(entry.name)) {
          // A file renamed or removed since readdir (a write finishing in another process) is left out.
          const stats = await unlessMissing(fs.stat(full));
          if (stats) out.push(infoOf(path.relative(this.root, full).split(path.sep).join("/"), stats));
        }
      }
    };
    await visit(this.root);
    return out;
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    const stats = await fs.stat(this.file(name)).catch((e) => (NO_OBJECT.has(e.code) ? undefined : Promise.reject(e)));
    return stats?.isFile() ? infoOf(name, stats) : undefined;
  }

  async delete(name: string): Promise<void> {
    this.closeOne(name);
    await fs.rm(this.file(name), { force: true });
  }

  async close(): Promise<void> {
    for (const name of [...this.open.keys()]) this.closeOne(name);
  }
}

/** The files of a local directory (the vault's store, or an agent's mount of it). */
export const localBackendAt: BackendFactory = (dir) => new LocalBackend(dir);

/** A range beyond the end of an object (a truncated pack): EIO, which verify counts as damage. */
const shortRead = (name: string, offset: number, detail: string) => Object.assign(new Error(`short read of ${name} at ${offset}: ${detail}`), { code: "EIO" });

const infoOf = (name: string, stats: { size: number; mtimeMs: number }): ObjectInfo => ({ name, size: stats.size, modifiedAt: stats.mtimeMs });
