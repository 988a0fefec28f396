// The contract every BlockStore (engine/store/block-store.ts) keeps, whatever its layers: one suite, run
// against each stack and wrapper (test/store-conformance.test.ts). Each test states one clause of the
// interface's comments.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import type { BlockStore } from "../../engine/store/block-store";
import { blockId } from "../../engine/store/block-id";

export interface BlockStoreHarness {
  store: BlockStore;
  /** The same store opened again (another process, or after a restart): it sees what was flushed. */
  reopen(): Promise<BlockStore>;
  /** Make the writes below the store fail (a full disk) from now on, or work again. Optional. */
  failWrites?(on: boolean): void;
  cleanup(): Promise<void>;
}

const idOf = (data: Buffer) => blockId(data).toString("hex");

/** Blocks of the kinds a disk holds: random (kept raw), compressible, and odd sizes. */
function sampleBlocks(): Buffer[] {
  return [randomBytes(65536), Buffer.alloc(65536, "compressible text "), randomBytes(1), randomBytes(1000), Buffer.alloc(4096, 7)];
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error("expected a rejection");
}

async function collect(blocks: AsyncIterable<{ id: string; data: Buffer }>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const { id, data } of blocks) {
    assert.ok(!out.has(id), `block ${id} handed out twice`);
    out.set(id, Buffer.from(data));
  }
  return out;
}

export function describeBlockStoreConformance(label: string, make: () => Promise<BlockStoreHarness>): void {
  describe(`BlockStore conformance: ${label}`, () => {
    let h: BlockStoreHarness;
    let store: BlockStore;
    const opened: BlockStore[] = [];
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      h.failWrites?.(false);
      for (const s of [store, ...opened.splice(0)]) await s.close();
      await h.cleanup();
    });
    const reopen = async () => {
      const again = await h.reopen();
      opened.push(again);
      return again;
    };

    it("put then get is byte-exact, before the flush and after it", async () => {
      const blocks = sampleBlocks();
      for (const block of blocks) assert.ok((await store.put(idOf(block), block)) > 0, "a new block adds bytes");
      for (const block of blocks) assert.ok((await store.get(idOf(block))).equals(block), "buffered");
      await store.flush();
      for (const block of blocks) assert.ok((await store.get(idOf(block))).equals(block), "flushed");
    });

    it("has: false for a block never put, true once put (before the flush too) and after", async () => {
      const block = randomBytes(65536);
      assert.equal(await store.has(idOf(block)), false);
      await store.put(idOf(block), block);
      assert.equal(await store.has(idOf(block)), true, "buffered");
      await store.flush();
      assert.equal(await store.has(idOf(block)), true, "flushed");
      assert.equal(await store.has(idOf(randomBytes(10))), false);
    });

    it("a missing block fails get and getMany with BlockMissing", async () => {
      const present = randomBytes(1000);
      await store.put(idOf(present), present);
      await store.flush();
      const missing = idOf(randomBytes(1000));
      assert.equal(await codeOf(store.get(missing)), "BlockMissing");
      assert.equal(await codeOf(collect(store.getMany([idOf(present), missing]))), "BlockMissing");
    });

    it("the same block twice is stored once: the second put adds nothing, before and after the flush; replace writes it again", async () => {
      const block = randomBytes(65536);
      const before = (await store.stats()).blocks;
      assert.ok((await store.put(idOf(block), block)) > 0);
      assert.equal(await store.put(idOf(block), block), 0, "buffered");
      await store.flush();
      assert.equal(await store.put(idOf(block), block), 0, "flushed");
      await store.flush();
      assert.equal((await store.stats()).blocks, before + 1);
      assert.ok((await store.put(idOf(block), block, { replace: true })) > 0, "replace writes it again");
      await store.flush();
      assert.equal((await store.stats()).blocks, before + 1, "the replaced copy takes the old one's place");
      assert.ok((await store.get(idOf(block))).equals(block));
    });

    it("getMany hands out each block of a batch once, byte-exact, whatever the order and repeats of the ids", async () => {
      // 20 MiB, so that the compressing layer decodes on its worker threads.
      const blocks = Array.from({ length: 320 }, (_, n) =>
        n % 4 === 0 ? Buffer.alloc(65536, `text ${n} `) : n % 4 === 1 ? randomBytes(1 + n * 7) : randomBytes(65536),
      );
      for (const block of blocks.slice(0, 200)) await store.put(idOf(block), block);
      await store.flush();
      for (const block of blocks.slice(200)) await store.put(idOf(block), block); // some still buffered
      const ids = blocks.map(idOf);
      const asked = [...ids].reverse().concat(ids.slice(0, 10));
      const got = await collect(store.getMany(asked));
      assert.equal(got.size, blocks.length);
      for (const block of blocks) assert.ok(got.get(idOf(block))?.equals(block), `block ${idOf(block)}`);
      assert.equal((await collect(store.getMany([]))).size, 0);
    });

    it("flushed blocks are durable: the store opened again reads them; close flushes what was put", async () => {
      const flushed = randomBytes(65536);
      const unflushed = Buffer.alloc(8192, "at close ");
      await store.put(idOf(flushed), flushed);
      await store.flush();
      await store.put(idOf(unflushed), unflushed);
      await store.close();
      const again = await reopen();
      assert.ok((await again.get(idOf(flushed))).equals(flushed));
      assert.ok((await again.get(idOf(unflushed))).equals(unflushed));
      assert.equal(await again.has(idOf(unflushed)), true);
    });

    it("retainOnly keeps the live blocks, byte-exact, and drops the rest", async () => {
      const [a, b, c] = [randomBytes(65536), randomBytes(65536), randomBytes(65536)];
      for (const block of [a, b, c]) await store.put(idOf(block), block);
      await store.flush();
      const { blocksDeleted } = await store.retainOnly(new Set([idOf(a), idOf(b)]));
      assert.equal(blocksDeleted, 1);
      assert.equal(await store.has(idOf(c)), false);
      assert.equal(await codeOf(store.get(idOf(c))), "BlockMissing");
      assert.ok((await store.get(idOf(a))).equals(a));
      assert.ok((await store.get(idOf(b))).equals(b));
      assert.equal((await store.stats()).blocks, 2);
    });

    it("a write that fails stores nothing: the flush rejects, the block is not in the store, and it can be put again once writes work", async function () {
      if (!h.failWrites) return this.skip();
      const kept = randomBytes(65536);
      await store.put(idOf(kept), kept);
      await store.flush();
      const lost = randomBytes(65536);
      h.failWrites(true);
      // The failure shows at the put (a layer that writes at once) or at the flush (one that buffers).
      const failed = await store
        .put(idOf(lost), lost)
        .then(() => store.flush())
        .then(
          () => false,
          () => true,
        );
      assert.ok(failed, "the write failed");
      h.failWrites(false);
      assert.equal(await store.has(idOf(lost)), false);
      assert.equal(await codeOf(store.get(idOf(lost))), "BlockMissing");
      assert.ok((await store.get(idOf(kept))).equals(kept), "what was stored before stays");
      assert.ok((await store.put(idOf(lost), lost)) > 0);
      await store.flush();
      assert.ok((await (await reopen()).get(idOf(lost))).equals(lost));
    });
  });
}
