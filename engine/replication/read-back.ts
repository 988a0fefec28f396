import type { BlockStore } from "../store/block-store";
import { knownDigest, releaseBlock } from "../store/compress/decoder";
import { blockId } from "../store/block-id";
import { errorMessage } from "../errors";
import type { RateLimiter } from "./rate-limit";

/**
 * Failures that mean a stored copy is gone or bad, rather than that the store cannot be reached: a block
 * missing from the index, a frame that does not decode or decrypt (BlockDamaged, from any layer), a short
 * read of a truncated pack (EIO), a pack that is gone (ObjectMissing: see store/backend.ts).
 */
const DAMAGE_CODES = new Set(["BlockDamaged", "BlockMissing", "EIO", "ObjectMissing"]);

export const isDamage = (error: unknown): boolean => DAMAGE_CODES.has((error as { code?: string })?.code ?? "");

export interface ReadBackOptions {
  limiter?: RateLimiter;
  /** Stop early (the ids not read by then are returned as unchecked). */
  signal?: AbortSignal;
  /** After each batch: blocks judged, their bytes, and how many of them were damaged. */
  onProgress?: (checked: number, bytes: number, damaged: number) => void | Promise<void>;
}

export interface ReadBackResult {
  /** Blocks read back and judged. */
  checked: number;
  /** Raw bytes of those blocks. */
  bytes: number;
  /** Damaged ids, with why. */
  damaged: Map<string, string>;
  /** Ids left unread because the read was stopped (their verdict, if any, is not to be trusted as "intact"). */
  unchecked: string[];
}

/** Ids per batch: 64 MiB of 64 KiB blocks, read in one getMany (the store's fastest order). */
const BATCH = 1024;

/**
 * Read back every block of `ids` (each once) and check it against its id, collecting every damaged one
 * instead of stopping at the first. Blocks the store says it lacks are read one by one, for the reason;
 * the rest of each batch in one getMany. When that read fails part way, the ids it did not hand out are
 * read again in halves, down to the single block that fails, so one bad block costs a few extra reads of
 * its batch and no block is skipped. A failure that is not damage (a store that cannot be reached) fails
 * the whole read.
 */
export async function readBack(store: BlockStore, ids: string[], options: ReadBackOptions = {}): Promise<ReadBackResult> {
  const result: ReadBackResult = { checked: 0, bytes: 0, damaged: new Map(), unchecked: [] };
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    if (!options.signal?.aborted) await readBatch(store, batch, result, options);
    if (options.signal?.aborted) result.unchecked.push(...batch); // a batch cut short counts as not read
    await options.onProgress?.(result.checked, result.bytes, result.damaged.size);
  }
  return result;
}

async function readBatch(store: BlockStore, ids: string[], result: ReadBackResult, options: ReadBackOptions): Promise<void> {
  await store.prefetch?.(ids);
  const present: string[] = [];
  for (const id of ids) {
    if (await store.has(id)) present.push(id);
    else await readOne(store, id, result, options); // for the reason: not indexed, its pack short or gone
  }
  await readSome(store, present, result, options);
}

async function readSome(store: BlockStore, ids: string[], result: ReadBackResult, options: ReadBackOptions): Promise<void> {
  if (ids.length === 0) return;
  const seen = new Set<string>();
  try {
    for await (const { id, data } of store.getMany(ids)) {
      seen.add(id);
      await check(id, data, result, options);
      if (options.signal?.aborted) return;
    }
  } catch (error) {
    const rest = ids.filter((id) => !seen.has(id));
    if (rest.length === 0) throw error;
    if (rest.length === 1) return readOne(store, rest[0], result, options);
    const half = Math.ceil(rest.length / 2);
    await readSome(store, rest.slice(0, half), result, options);
    await readSome(store, rest.slice(half), result, options);
  }
}

/** One block on its own: a failure that is damage is judged, any other fails the read. */
async function readOne(store: BlockStore, id: string, result: ReadBackResult, options: ReadBackOptions): Promise<void> {
  let data: Buffer;
  try {
    data = await store.get(id);
  } catch (error) {
    if (!isDamage(error)) throw error;
    judge(result, id, `cannot be read back: ${errorMessage(error)}`);
    return;
  }
  await check(id, data, result, options);
}

async function check(id: string, data: Buffer, result: ReadBackResult, options: ReadBackOptions): Promise<void> {
  await options.limiter?.take(data.length, options.signal);
  const digest = knownDigest(data) ?? blockId(data); // taken where the store decoded it, when it could
  judge(result, id, digest.toString("hex") === id ? null : "does not match its id (SHA-256)", data.length);
  releaseBlock(data);
}

function judge(result: ReadBackResult, id: string, damage: string | null, bytes = 0): void {
  result.checked++;
  result.bytes += bytes;
  if (damage) result.damaged.set(id, `block ${id} ${damage}`);
}
