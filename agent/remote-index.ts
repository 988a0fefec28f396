import type { BlockLocation, IndexEntry, PackIndex } from "../engine/store/packed/pack-index";
import type { AgentLink } from "./link";

/** Lookups per request: under the engine's limit, and a few MiB of JSON at most. */
const LOOKUP_BATCH = 16_384;

/**
 * The block index as an agent sees it: the engine's index, asked over HTTP in batches (prefetch), plus
 * the blocks this agent wrote in the current window, which the engine indexes when the window's report
 * lands. One per window: what it learned may be out of date by the next.
 */
export class RemotePackIndex implements PackIndex {
  /** Located blocks, and null for blocks the engine said it does not have. */
  private readonly known = new Map<string, BlockLocation | null>();
  /** Blocks written into packs during this window: the report carries them. */
  readonly written: IndexEntry[] = [];

  constructor(private readonly link: AgentLink) {}

  async prefetch(ids: string[]): Promise<void> {
    const unknown = [...new Set(ids.filter((id) => !this.known.has(id)))];
    for (let i = 0; i < unknown.length; i += LOOKUP_BATCH) {
      const batch = unknown.slice(i, i + LOOKUP_BATCH);
      const found = await this.link.lookup(batch);
      for (const id of batch) this.known.set(id, null);
      for (const { id, ...at } of found) this.known.set(id, at);
    }
  }

  async lookup(id: string): Promise<BlockLocation | undefined> {
    await this.prefetch([id]);
    return this.known.get(id) ?? undefined;
  }

  async lookupMany(ids: string[]): Promise<IndexEntry[]> {
    await this.prefetch(ids);
    return ids.flatMap((id) => {
      const at = this.known.get(id);
      return at ? [{ id, ...at }] : [];
    });
  }

  async add(entries: IndexEntry[]): Promise<void> {
    for (const { id, ...at } of entries) this.known.set(id, at);
    this.written.push(...entries);
  }

  // Deleting and listing blocks is the engine's (retention, garbage collection), never an agent's.
  remove(): Promise<void> {
    return Promise.reject(new Error("agents do not delete blocks"));
  }
  all(): Promise<IndexEntry[]> {
    return Promise.reject(new Error("agents do not list the store"));
  }
  totals(): Promise<{ blocks: number; bytes: number }> {
    return Promise.reject(new Error("agents do not count the store"));
  }
}
