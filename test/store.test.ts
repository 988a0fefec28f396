import { strict as assert } from "node:assert";
import * as path from "node:path";
import { randomBytes, createHash } from "node:crypto";
import { openCatalog } from "../engine/catalog/catalog";
import { SqlPackIndex } from "../engine/catalog/sql-pack-index";
import { LocalBackend } from "../engine/store/local/local-backend";
import { PackedBlockStore } from "../engine/store/packed/packed-block-store";
import { CompressingBlockStore } from "../engine/store/compress/compressing-block-store";
import { knownDigest, releaseBlock } from "../engine/store/compress/decoder";
import { SealingKey } from "../engine/store/encrypt/sealing-key";
import { blockStoreOn } from "../engine/store/stack";
import { tempDir } from "./helpers";

/** A real local backend whose next `failures` puts fail with ENOSPC, as a full disk would. */
class FillingBackend extends LocalBackend {
  failures = 0;
  override async put(name: string, parts: Buffer[]) {
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    }
    return super.put(name, parts);
  }
}

const idOf = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("packed block store", () => {
  it("stores blocks once, reads them back while packs are still being written, and survives a failed pack write", async () => {
    const dir = tempDir();
    const db = await openCatalog(path.join(dir, "catalog.sqlite"));
    after(() => db.destroy());
    const backend = new FillingBackend(path.join(dir, "store"));
    const store = new CompressingBlockStore(new PackedBlockStore(backend, new SqlPackIndex(db)));

    // 1,100 random 64 KiB blocks span more than two 32 MiB packs, so writes happen in the background.
    const blocks = Array.from({ length: 1100 }, () => randomBytes(65536));
    for (const [i, block] of blocks.entries()) {
      assert.ok((await store.put(idOf(block), block)) > 65536, "a new random block is stored raw, with its codec byte");
      if (i % 100 === 0) assert.ok((await store.get(idOf(blocks[0]))).equals(blocks[0]), "readable before and after its pack is written");
      assert.equal(await store.put(idOf(block), block), 0, "a block already present is not stored again");
    }
    await store.flush();
    assert.equal((await store.stats()).blocks, 1100);
    for (const block of blocks.slice(0, 50)) assert.ok((await store.get(idOf(block))).equals(block));

    // A full disk: the write fails, flush reports it once, and the store works again afterwards.
    backend.failures = 1;
    const lost = randomBytes(65536);
    await store.put(idOf(lost), lost);
    await assert.rejects(store.flush(), /no space left/);
    assert.equal(await store.has(idOf(lost)), false, "a block whose pack failed is not in the store");
    assert.ok((await store.put(idOf(lost), lost)) > 0);
    await store.flush();
    assert.ok((await store.get(idOf(lost))).equals(lost));
    const text = Buffer.alloc(65536, "compressible text ");
    assert.ok((await store.put(idOf(text), text)) < 1000, "compressible blocks shrink");
    await store.flush();
    assert.ok((await store.get(idOf(text))).equals(text));
  });
});

describe("decoded reads (getMany)", () => {
  for (const sealed of [false, true]) {
    it(`${sealed ? "sealed" : "open"} blocks, raw and compressed mixed in each batch, read back byte-exact on the decode threads with their digests; released memory is reused without touching blocks still held`, async () => {
      const dir = tempDir();
      const db = await openCatalog(path.join(dir, "catalog.sqlite"));
      after(() => db.destroy());
      const store = blockStoreOn(new LocalBackend(path.join(dir, "store")), new SqlPackIndex(db), sealed ? SealingKey.generate() : undefined);
      // 16 MiB in all, so batches (4 MiB of blocks) go to the worker threads; every third block compresses.
      const blocks = Array.from({ length: 256 }, (_, n) => (n % 3 === 0 ? Buffer.alloc(65536, `text ${n} `) : randomBytes(65536)));
      for (const block of blocks) await store.put(idOf(block), block);
      await store.flush();
      const ids = blocks.map(idOf);
      for (let round = 0; round < 3; round++) {
        const held: Buffer[] = [];
        let n = 0;
        for await (const { id, data } of store.getMany(ids)) {
          assert.equal(id, ids[n]);
          assert.ok(data.equals(blocks[n]), `block ${n}, round ${round}`);
          assert.equal(knownDigest(data)?.toString("hex"), id, `the decode thread's digest of block ${n}`);
          // Half are held to the end of the round, half released at once for the next batches to reuse.
          if (n % 2) held.push(data);
          else releaseBlock(data);
          n++;
        }
        assert.equal(n, blocks.length);
        for (const [k, data] of held.entries()) assert.ok(data.equals(blocks[2 * k + 1]), `held block ${2 * k + 1} intact after later batches`);
        for (const data of held) releaseBlock(data);
      }
      await store.close();
    });
  }
});

describe("pack index prefetch", () => {
  it("answers the lookups after a prefetch from it, but never one after the index changed or a second one for the same id", async () => {
    const dir = tempDir();
    const db = await openCatalog(path.join(dir, "catalog.sqlite"));
    after(() => db.destroy());
    const index = new SqlPackIndex(db);
    await index.add([
      { id: "a", pack: "packs/p1", offset: 0, length: 10 },
      { id: "b", pack: "packs/p1", offset: 10, length: 10 },
    ]);

    await index.prefetch(["a", "b", "c"]);
    assert.deepEqual(await index.lookup("a"), { pack: "packs/p1", offset: 0, length: 10 });
    assert.equal(await index.lookup("c"), undefined, "an id absent at the prefetch is absent");
    // Behind the prefetch's back (another index on the catalog, as an agent's report writes), c is added:
    await new SqlPackIndex(db).add([{ id: "c", pack: "packs/p2", offset: 0, length: 5 }]);
    assert.deepEqual(await index.lookup("c"), { pack: "packs/p2", offset: 0, length: 5 }, "a prefetched answer serves one lookup only");

    await index.prefetch(["a", "b"]);
    await index.remove(["b"]);
    assert.equal(await index.lookup("b"), undefined, "a removal drops what was prefetched");
    assert.deepEqual(await index.lookup("a"), { pack: "packs/p1", offset: 0, length: 10 });
  });
});
