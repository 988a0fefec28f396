// Every Backend and BlockStore the engine has passes the same conformance suites (test/conformance/): the
// local backend, the fault-injecting wrappers with faults off (and on, where the contract says what a
// failure leaves), and the block store stacks. A new backend (object storage) adds itself here.
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { openCatalog, type CatalogDb } from "../engine/catalog/catalog";
import { SqlPackIndex } from "../engine/catalog/sql-pack-index";
import type { Backend } from "../engine/store/backend";
import type { BlockStore } from "../engine/store/block-store";
import { LocalBackend } from "../engine/store/local/local-backend";
import { PackedBlockStore } from "../engine/store/packed/packed-block-store";
import { SealingKey } from "../engine/store/encrypt/sealing-key";
import { blockStoreOn, vaultStoreOn } from "../engine/store/stack";
import { blockId } from "../engine/store/block-id";
import { FaultyStore, ShortWritingBackend, SpaceBudget, StallingBackend } from "./fixtures/faulty-store";
import { describeBackendConformance, type BackendHarness } from "./conformance/backend-suite";
import { describeBlockStoreConformance, type BlockStoreHarness } from "./conformance/block-store-suite";

/** A fresh directory for one test (the suites make a harness per test), removed by its cleanup. */
const freshDir = () => mkdtempSync(path.join(os.tmpdir(), "lifeboat-conformance-"));
const removeDir = (dir: string) => async () => rmSync(dir, { recursive: true, force: true });

/** A local-directory backend harness; `open` builds the backend under test on the directory. */
function localHarness(open: (root: string) => LocalBackend): () => Promise<BackendHarness> {
  return async () => {
    const dir = freshDir();
    const root = path.join(dir, "store");
    const stalling: StallingBackend[] = [];
    return {
      backend: open(root),
      reopen: () => open(root),
      interruptPut: async (name, data) => {
        const writer = new StallingBackend(root);
        stalling.push(writer);
        await writer.stallPut(name, data);
      },
      cleanup: async () => {
        for (const writer of stalling) writer.release();
        await removeDir(dir)();
      },
    };
  };
}

describeBackendConformance(
  "LocalBackend",
  localHarness((root) => new LocalBackend(root)),
);
describeBackendConformance(
  "ShortWritingBackend, faults off",
  localHarness((root) => new ShortWritingBackend(root)),
);

describe("Backend faults: a failed put", () => {
  for (const [label, budget] of [
    ["on a full filesystem", { left: 0 }],
    ["that runs out of space part-way", { left: 100_000, perWrite: 30_000 }],
  ] as const) {
    it(`${label} leaves nothing visible and no leftover, and an object of that name stays as it was`, async () => {
      const dir = freshDir();
      after(removeDir(dir));
      const space = new SpaceBudget();
      const backend = new ShortWritingBackend(path.join(dir, "store"), space);
      const old = randomBytes(1000);
      await backend.put("packs/ab/kept.pack", [old]);
      Object.assign(space, budget);
      await assert.rejects(backend.put("packs/ab/new.pack", [randomBytes(500_000)]), (e: NodeJS.ErrnoException) => e.code === "ENOSPC");
      await assert.rejects(backend.put("packs/ab/kept.pack", [randomBytes(500_000)]), (e: NodeJS.ErrnoException) => e.code === "ENOSPC");
      const reader = new LocalBackend(path.join(dir, "store"));
      assert.deepEqual(
        (await reader.list("")).map((o) => o.name),
        ["packs/ab/kept.pack"],
      );
      assert.equal(await reader.stat("packs/ab/new.pack"), undefined);
      assert.ok((await reader.get("packs/ab/kept.pack")).equals(old), "the old object, whole");
      assert.deepEqual(await reader.leftovers(), [], "the failed put's temporary file is gone");
      await backend.close();
      await reader.close();
    });
  }
});

/**
 * A block store harness on a local directory and a catalog: `build` stacks the layers on the backend
 * and index. Writes below fail while `failWrites` is on (a full filesystem, or the wrapper's fault).
 */
function stackHarness(
  build: (backend: Backend, index: SqlPackIndex) => BlockStore,
  faults: "filesystem" | "wrapper" = "filesystem",
): () => Promise<BlockStoreHarness> {
  return async () => {
    const dir = freshDir();
    const root = path.join(dir, "store");
    const db: CatalogDb = await openCatalog(path.join(dir, "catalog.sqlite"));
    const space = new SpaceBudget();
    const store = build(new ShortWritingBackend(root, space), new SqlPackIndex(db));
    const faulty = faults === "wrapper" ? new FaultyStore(store) : undefined;
    return {
      store: faulty ?? store,
      reopen: async () => build(new LocalBackend(root), new SqlPackIndex(db)),
      failWrites: (on) => {
        if (faulty) faulty.failWith = on ? "ENOSPC" : null;
        else space.left = on ? 0 : Infinity;
      },
      cleanup: async () => {
        await db.destroy();
        await removeDir(dir)();
      },
    };
  };
}

const key = SealingKey.generate();
describeBlockStoreConformance(
  "packed",
  stackHarness((backend, index) => new PackedBlockStore(backend, index)),
);
describeBlockStoreConformance(
  "compressed (blockStoreOn, no key)",
  stackHarness((backend, index) => blockStoreOn(backend, index, undefined)),
);
describeBlockStoreConformance(
  "encrypted (blockStoreOn with a data key)",
  stackHarness((backend, index) => blockStoreOn(backend, index, key)),
);
describeBlockStoreConformance(
  "FaultyStore over the encrypted stack, faults off (and on)",
  stackHarness((backend, index) => blockStoreOn(backend, index, key), "wrapper"),
);

describe("SharedPacks: packs another writer put into the store", () => {
  it("unfit names the packs that are missing or too short; adopt indexes their blocks only when the catalog transaction commits", async () => {
    const dir = freshDir();
    after(removeDir(dir));
    const root = path.join(dir, "store");
    const db = await openCatalog(path.join(dir, "catalog.sqlite"));
    after(() => db.destroy());
    const { blocks, packs } = vaultStoreOn(new LocalBackend(root), new SqlPackIndex(db), key);
    after(() => blocks.close());
    assert.equal(packs.where, root);

    // Another writer (an agent, with its own index) writes packs into the same backend.
    const agentDb = await openCatalog(path.join(dir, "agent.sqlite"));
    after(() => agentDb.destroy());
    const agentIndex = new SqlPackIndex(agentDb);
    const agentStore = blockStoreOn(new LocalBackend(root), agentIndex, key);
    const written = [randomBytes(65536), Buffer.alloc(65536, "agent text ")];
    for (const block of written) await agentStore.put(blockId(block).toString("hex"), block);
    await agentStore.close();
    const entries = await agentIndex.all();
    const ids = written.map((b) => blockId(b).toString("hex"));

    assert.deepEqual(await packs.unfit(entries), []);
    const ghost = { id: "0".repeat(64), pack: "packs/00/ghost.pack", offset: 0, length: 10 };
    const beyond = { ...entries[0], id: "1".repeat(64), offset: 10_000_000 };
    assert.deepEqual(await packs.unfit([...entries, ghost, beyond]), [
      { pack: entries[0].pack, end: 10_000_000 + entries[0].length, size: (await new LocalBackend(root).stat(entries[0].pack))!.size },
      { pack: ghost.pack, end: 10, size: undefined },
    ]);
    assert.deepEqual(await packs.locate(ids), [], "not the store's yet");

    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await packs.adopt(entries, trx);
        throw new Error("the points failed");
      }),
      /the points failed/,
    );
    assert.equal(await blocks.has(ids[0]), false, "a rolled back adoption indexes nothing");
    await db.transaction().execute((trx) => packs.adopt(entries, trx));
    for (const [n, block] of written.entries()) assert.ok((await blocks.get(ids[n])).equals(block), `block ${n} through the engine's stack`);
    assert.deepEqual((await packs.locate(ids)).map((e) => e.id).sort(), [...ids].sort());
  });
});
