import { randomBytes } from "node:crypto";
import type { Backend } from "../backend";
import type { BlockStore, StoreStats } from "../block-store";
import { EngineError } from "../../errors";
import type { IndexEntry, PackIndex } from "./pack-index";

/** Packs are written when they reach this size, so one fsync covers hundreds of blocks. */
const PACK_TARGET_BYTES = 32 * 1024 * 1024;
const PACK_PREFIX = "packs/";

interface PendingPack {
  parts: Buffer[];
  entries: Map<string, { offset: number; length: number }>;
  size: number;
}

const emptyPack = (): PendingPack => ({ parts: [], entries: new Map(), size: 0 });

/**
 * Blocks packed into pack files on a Backend, located through a PackIndex. Space of deleted blocks is
 * reclaimed by rewriting the live blocks of affected packs and deleting the old packs.
 */
export class PackedBlockStore implements BlockStore {
  private pending = emptyPack();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly backend: Backend,
    private readonly index: PackIndex,
  ) {}

  async has(id: string): Promise<boolean> {
    return this.pending.entries.has(id) || (await this.index.lookup(id)) !== undefined;
  }

  async put(id: string, data: Buffer, options: { replace?: boolean } = {}): Promise<number> {
    if (this.pending.entries.has(id)) return 0;
    if (!options.replace && (await this.index.lookup(id))) return 0;
    this.pending.entries.set(id, { offset: this.pending.size, length: data.length });
    this.pending.parts.push(Buffer.from(data));
    this.pending.size += data.length;
    if (this.pending.size >= PACK_TARGET_BYTES) await this.flush();
    return data.length;
  }

  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = emptyPack();
    this.flushing = this.flushing.then(() => this.writePack(batch));
    return this.flushing;
  }

  private async writePack(batch: PendingPack): Promise<void> {
    if (batch.entries.size === 0) return;
    const name = `${PACK_PREFIX}${randomBytes(1).toString("hex")}/${randomBytes(16).toString("hex")}.pack`;
    await this.backend.put(name, batch.parts);
    const entries: IndexEntry[] = [...batch.entries].map(([id, at]) => ({ id, pack: name, ...at }));
    await this.index.add(entries);
  }

  async get(id: string): Promise<Buffer> {
    const pending = this.pending.entries.get(id);
    if (pending) return Buffer.concat(this.pending.parts).subarray(pending.offset, pending.offset + pending.length);
    const at = await this.index.lookup(id);
    if (!at) throw new EngineError("BlockMissing", `block ${id} is not in the store`, false);
    return this.backend.get(at.pack, at.offset, at.length);
  }

  async retainOnly(live: Set<string>): Promise<{ blocksDeleted: number; bytesFreed: number }> {
    await this.flush();
    const byPack = new Map<string, { live: IndexEntry[]; dead: IndexEntry[] }>();
    for (const entry of await this.index.all()) {
      const group = byPack.get(entry.pack) ?? { live: [], dead: [] };
      (live.has(entry.id) ? group.live : group.dead).push(entry);
      byPack.set(entry.pack, group);
    }
    const sizes = new Map((await this.backend.list(PACK_PREFIX)).map((o) => [o.name, o.size]));
    const before = [...sizes.values()].reduce((a, b) => a + b, 0);
    let blocksDeleted = 0;
    const obsolete: string[] = [...sizes.keys()].filter((name) => !byPack.has(name)); // orphans of interrupted writes
    for (const [pack, group] of byPack) {
      if (group.dead.length === 0) continue;
      // Copy the survivors into new packs first; the old pack goes only once they are durable and indexed.
      for (const entry of group.live) await this.put(entry.id, await this.backend.get(pack, entry.offset, entry.length), { replace: true });
      blocksDeleted += group.dead.length;
      obsolete.push(pack);
    }
    await this.flush();
    const deadIds = [...byPack.values()].flatMap((g) => g.dead.map((e) => e.id));
    await this.index.remove(deadIds);
    for (const pack of obsolete) await this.backend.delete(pack);
    const after = (await this.backend.list(PACK_PREFIX)).reduce((sum, o) => sum + o.size, 0);
    return { blocksDeleted, bytesFreed: before - after };
  }

  async stats(): Promise<StoreStats> {
    const totals = await this.index.totals();
    const packBytes = (await this.backend.list(PACK_PREFIX)).reduce((sum, o) => sum + o.size, 0);
    return { blocks: totals.blocks, storedBytes: totals.bytes, packBytes };
  }

  async close(): Promise<void> {
    await this.flush();
    await this.backend.close();
  }
}
