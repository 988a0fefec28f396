import { randomBytes } from "node:crypto";
import type { Backend, ObjectInfo } from "../backend";
import type { BlockStore, StoreStats, StoredBlock } from "../block-store";
import { EngineError } from "../../errors";
import type { BlockLocation, IndexEntry, PackIndex } from "./pack-index";

/** Packs are written when they reach this size, so one fsync covers hundreds of blocks. */
const PACK_TARGET_BYTES = 32 * 1024 * 1024;
const PACK_PREFIX = "packs/";
/** getMany reads neighbouring blocks of a pack in one read up to this size, bridging gaps up to READ_GAP. */
export const READ_SPAN = 2 * 1024 * 1024;
export const READ_GAP = 256 * 1024;
/**
 * A pack no index entry names is deleted only once it is this old: agents on other hosts write packs
 * into the store before the engine indexes them with their recovery point, which takes a cycle.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
/** Pack sizes remembered per process (a few MB of names at most); forgotten all at once beyond it. */
const KNOWN_PACKS_MAX = 100_000;

/** Pack buffers kept for the next packs: at most the one filling and the one being written are in use. */
const SPARE_BUFFERS = 2;

/** A pack being filled: blocks are copied into one buffer, which is written whole. */
class PendingPack {
  readonly entries = new Map<string, { offset: number; length: number }>();
  size = 0;

  constructor(private buffer: Buffer = Buffer.allocUnsafe(PACK_TARGET_BYTES)) {}

  /** Its memory, for the next pack, once it is written and nothing reads it any more. */
  get memory(): Buffer {
    return this.buffer;
  }

  append(id: string, data: Buffer): void {
    if (this.size + data.length > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.size + data.length));
      this.buffer.copy(bigger, 0, 0, this.size);
      this.buffer = bigger;
    }
    data.copy(this.buffer, this.size);
    this.entries.set(id, { offset: this.size, length: data.length });
    this.size += data.length;
  }

  read(id: string): Buffer | undefined {
    const at = this.entries.get(id);
    return at && Buffer.from(this.buffer.subarray(at.offset, at.offset + at.length));
  }

  get bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
  }
}

/**
 * Blocks packed into pack files on a Backend, located through a PackIndex. A full pack is written in the
 * background while the next one fills (at most one write in flight, so memory stays bounded); `flush`
 * waits for every write, and a failed write fails the next `flush`. Space of deleted blocks is reclaimed
 * by rewriting the live blocks of affected packs and deleting the old packs.
 */
export class PackedBlockStore implements BlockStore {
  private pending = new PendingPack();
  /**
   * Buffers of written packs, reused: a fresh 32 MiB buffer costs its page faults on every first touch,
   * which took ~10x the copying itself (0.5 s of main thread per GiB of initial replication).
   */
  private readonly spare: Buffer[] = [];
  /** Packs handed to the writer and not yet indexed: their blocks exist for has/get meanwhile. */
  private readonly queued = new Set<PendingPack>();
  private writing: Promise<void> = Promise.resolve();
  /**
   * Sizes of packs seen in the backend. A pack never changes once written, so each is asked about
   * once per process; an index entry counts only if its pack holds its bytes (see holds).
   */
  private readonly packSizes = new Map<string, number>();

  constructor(
    private readonly backend: Backend,
    private readonly index: PackIndex,
  ) {}

  private unwritten(id: string): boolean {
    if (this.pending.entries.has(id)) return true;
    for (const pack of this.queued) if (pack.entries.has(id)) return true;
    return false;
  }

  async has(id: string): Promise<boolean> {
    if (this.unwritten(id)) return true;
    const at = await this.index.lookup(id);
    return at !== undefined && (await this.holds(at));
  }

  /**
   * Whether the pack an index entry names is there and long enough to hold the block. A vault written
   * by an older version (whose short writes on a full disk went unnoticed) can index blocks its packs
   * do not hold; such a block is not "already stored": it is written again and its entry moves.
   */
  private async holds(at: BlockLocation): Promise<boolean> {
    let size = this.packSizes.get(at.pack);
    if (size === undefined) {
      const info = await this.backend.stat(at.pack);
      if (!info) return false; // not remembered: a missing pack is rare, and an agent's may yet land
      size = info.size;
      this.rememberPack(at.pack, size);
    }
    return at.offset + at.length <= size;
  }

  private rememberPack(pack: string, size: number): void {
    if (this.packSizes.size >= KNOWN_PACKS_MAX) this.packSizes.clear();
    this.packSizes.set(pack, size);
  }

  async prefetch(ids: string[]): Promise<void> {
    await this.index.prefetch?.(ids.filter((id) => !this.unwritten(id)));
  }

  async put(id: string, data: Buffer, options: { replace?: boolean } = {}): Promise<number> {
    if (this.unwritten(id)) return 0;
    if (!options.replace) {
      const at = await this.index.lookup(id);
      if (at && (await this.holds(at))) return 0;
      // Captures put side by side: another may have put this block while the index was asked.
      if (this.unwritten(id)) return 0;
    }
    this.pending.append(id, data);
    if (this.pending.size >= PACK_TARGET_BYTES) {
      await this.settle(); // the previous pack is written before a third one fills
      this.startWrite();
    }
    return data.length;
  }

  private startWrite(): void {
    const batch = this.pending;
    this.pending = new PendingPack(this.spare.pop());
    this.queued.add(batch);
    this.writing = this.writing
      .then(() => this.writePack(batch))
      .finally(() => {
        this.queued.delete(batch);
        if (this.spare.length < SPARE_BUFFERS) this.spare.push(batch.memory);
      });
    this.writing.catch(() => undefined); // reported by the next flush, not as an unhandled rejection
  }

  async flush(): Promise<void> {
    if (this.pending.size > 0) this.startWrite();
    await this.settle();
  }

  /** Wait for the writes so far; a failure is reported once, and the writer starts afresh after it. */
  private async settle(): Promise<void> {
    const writing = this.writing;
    try {
      await writing;
    } catch (error) {
      if (this.writing === writing) this.writing = Promise.resolve();
      throw error;
    }
  }

  private async writePack(batch: PendingPack): Promise<void> {
    const name = `${PACK_PREFIX}${randomBytes(1).toString("hex")}/${randomBytes(16).toString("hex")}.pack`;
    await this.backend.put(name, [batch.bytes]);
    // Indexed only once the backend holds every byte: a short pack would list blocks it cannot give back.
    const stored = await this.backend.stat(name);
    if (stored?.size !== batch.size) {
      await this.backend.delete(name).catch(() => undefined);
      throw new EngineError("IoError", `pack ${name} holds ${stored?.size ?? 0} of its ${batch.size} bytes after it was written; its blocks were not indexed`);
    }
    this.rememberPack(name, batch.size);
    await this.index.add([...batch.entries].map(([id, at]) => ({ id, pack: name, ...at })));
  }

  async get(id: string): Promise<Buffer> {
    for (const pack of [this.pending, ...this.queued]) {
      const unwritten = pack.read(id);
      if (unwritten) return unwritten;
    }
    const at = await this.index.lookup(id);
    if (!at) throw new EngineError("BlockMissing", `block ${id} is not in the store`);
    return this.backend.get(at.pack, at.offset, at.length);
  }

  async *getMany(ids: string[]): AsyncIterable<StoredBlock> {
    const wanted = new Set(ids);
    for (const id of wanted) {
      const unwritten = this.pending.read(id) ?? [...this.queued].map((p) => p.read(id)).find(Boolean);
      if (unwritten) {
        wanted.delete(id);
        yield { id, data: unwritten };
      }
    }
    const located = await this.index.lookupMany([...wanted]);
    if (located.length < wanted.size) {
      const missing = [...wanted].find((id) => !located.some((e) => e.id === id));
      throw new EngineError("BlockMissing", `block ${missing} is not in the store`);
    }
    const spans = coalesce(located);
    // One read in flight while the previous span's blocks are handed out. Its failure is reported when
    // its turn comes (not as an unhandled rejection while the caller is busy, nor at all if it stops first).
    const read = (span: Span) => {
      const bytes = this.backend.get(span.pack, span.start, span.end - span.start);
      bytes.catch(() => undefined);
      return bytes;
    };
    let next = spans.length ? read(spans[0]) : undefined;
    for (const [i, span] of spans.entries()) {
      const bytes = await next!;
      next = i + 1 < spans.length ? read(spans[i + 1]) : undefined;
      for (const e of span.entries) yield { id: e.id, data: bytes.subarray(e.offset - span.start, e.offset - span.start + e.length) };
    }
  }

  async retainOnly(live: Set<string>): Promise<{ blocksDeleted: number; bytesFreed: number }> {
    await this.flush();
    const byPack = new Map<string, { live: IndexEntry[]; dead: IndexEntry[] }>();
    for (const entry of await this.index.all()) {
      const group = byPack.get(entry.pack) ?? { live: [], dead: [] };
      (live.has(entry.id) ? group.live : group.dead).push(entry);
      byPack.set(entry.pack, group);
    }
    const packs = await this.backend.list(PACK_PREFIX);
    const before = packs.reduce((sum, o) => sum + o.size, 0);
    let blocksDeleted = 0;
    const copied: string[] = [];
    // Orphans: packs of interrupted writes, or an agent's packs whose point never came.
    const obsolete = packs.filter((o) => !byPack.has(o.name) && stale(o)).map((o) => o.name);
    for (const [pack, group] of byPack) {
      if (group.dead.length === 0) continue;
      blocksDeleted += group.dead.length;
      // A pack that lost live blocks (damage) stays as it is: its survivors cannot all be copied.
      if (!(await everyAsync(group.live, (entry) => this.holds(entry)))) continue;
      // Copy the survivors into new packs first; the old pack goes only once they are durable and indexed.
      for (const entry of group.live) await this.put(entry.id, await this.backend.get(pack, entry.offset, entry.length), { replace: true });
      copied.push(...group.live.map((e) => e.id));
      obsolete.push(pack);
    }
    await this.flush();
    // A capture flushing beside this may have been the one told that a pack of copies failed: the index says.
    const doomed = new Set(obsolete);
    const moved = await this.index.lookupMany(copied);
    if (moved.length < copied.length || moved.some((e) => doomed.has(e.pack)))
      throw new EngineError("IoError", "a pack of live blocks copied by garbage collection was not written; no pack was deleted");
    const deadIds = [...byPack.values()].flatMap((g) => g.dead.map((e) => e.id));
    await this.index.remove(deadIds);
    for (const pack of obsolete) {
      await this.backend.delete(pack);
      this.packSizes.delete(pack);
    }
    // Temporary files of writes whose writer was killed (an agent's may still be being written: the same grace).
    let leftBytes = 0;
    for (const leftover of (await this.backend.leftovers()).filter(stale)) {
      await this.backend.delete(leftover.name);
      leftBytes += leftover.size;
    }
    const after = (await this.backend.list(PACK_PREFIX)).reduce((sum, o) => sum + o.size, 0);
    return { blocksDeleted, bytesFreed: before - after + leftBytes };
  }

  async stats(): Promise<StoreStats> {
    const totals = await this.index.totals();
    const packBytes = (await this.backend.list(PACK_PREFIX)).reduce((sum, o) => sum + o.size, 0);
    const leftBytes = (await this.backend.leftovers()).reduce((sum, o) => sum + o.size, 0);
    // Indexed blocks lie in their packs without overlap, so what the packs hold beyond them is unreferenced.
    return { blocks: totals.blocks, storedBytes: totals.bytes, packBytes, unreferencedBytes: Math.max(0, packBytes - totals.bytes) + leftBytes };
  }

  async close(): Promise<void> {
    await this.flush();
    await this.backend.close();
  }
}

/** Old enough that no writer (an agent between its window and its report) can still be using it. */
const stale = (o: ObjectInfo) => Date.now() - o.modifiedAt >= ORPHAN_GRACE_MS;

async function everyAsync<T>(list: T[], test: (t: T) => Promise<boolean>): Promise<boolean> {
  for (const t of list) if (!(await test(t))) return false;
  return true;
}

export interface Span {
  pack: string;
  start: number;
  end: number;
  entries: IndexEntry[];
}

/** Group block locations into byte ranges of their packs, in pack order, each read at once. */
export function coalesce(entries: IndexEntry[]): Span[] {
  const sorted = [...entries].sort((a, b) => (a.pack === b.pack ? a.offset - b.offset : a.pack < b.pack ? -1 : 1));
  const spans: Span[] = [];
  for (const e of sorted) {
    const last = spans[spans.length - 1];
    if (last && last.pack === e.pack && e.offset - last.end <= READ_GAP && e.offset + e.length - last.start <= READ_SPAN) {
      last.end = Math.max(last.end, e.offset + e.length);
      last.entries.push(e);
    } else spans.push({ pack: e.pack, start: e.offset, end: e.offset + e.length, entries: [e] });
  }
  return spans;
}
