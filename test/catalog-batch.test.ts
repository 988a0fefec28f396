import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { batches, inBatches, MAX_BOUND_VARIABLES } from "../engine/catalog/batch";
import { openCatalog } from "../engine/catalog/catalog";
import { insertManifestChunks, manifestChunksByIds } from "../engine/catalog/manifests";
import { tempDir } from "./helpers";

const sizes = (list: unknown[], columnsPerItem?: number) => [...batches(list, columnsPerItem)].map((b) => b.length);
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("catalog batching", () => {
  it("slices lists into batches of at most MAX_BOUND_VARIABLES bound variables", () => {
    assert.equal(MAX_BOUND_VARIABLES, 400);
    assert.deepEqual(sizes([]), [], "no items, no statement");
    assert.deepEqual(sizes(numbers(1)), [1]);
    assert.deepEqual(sizes(numbers(400)), [400]);
    assert.deepEqual(sizes(numbers(401)), [400, 1]);
    // Several columns per item (a multi-row insert): fewer items per batch.
    assert.deepEqual(sizes(numbers(401), 2), [200, 200, 1]);
    assert.deepEqual(sizes(numbers(400), 3), [133, 133, 133, 1]);
    assert.deepEqual(sizes(numbers(0), 3), []);
    assert.deepEqual([...batches(numbers(401))].flat(), numbers(401), "every item once, in order");
  });

  it("inBatches runs the query once per batch, in order, and concatenates the rows in that order", async () => {
    const seen: number[][] = [];
    const rows = await inBatches(numbers(801), async (batch) => {
      seen.push(batch);
      return batch.map((n) => `row ${n}`);
    });
    assert.deepEqual(
      seen.map((b) => b.length),
      [400, 400, 1],
    );
    assert.deepEqual(
      seen.map((b) => b[0]),
      [0, 400, 800],
    );
    assert.deepEqual(
      rows,
      numbers(801).map((n) => `row ${n}`),
    );
    assert.deepEqual(await inBatches([], async () => assert.fail("no query for no items")), []);
  });

  it("stores and loads more chunks than one statement can bind, through a real catalog", async () => {
    const db = await openCatalog(path.join(tempDir(), "catalog.db"));
    after(() => db.destroy());
    // More ids than the bundled SQLite binds in one statement (32766), so only batching can load them.
    const count = 40_000;
    const chunks = numbers(count).map((n) => {
      const data = Buffer.from(`chunk ${n}`);
      return { id: createHash("sha256").update(data).digest("hex"), data };
    });
    const ids = chunks.map((c) => c.id);
    await assert.rejects(
      db.selectFrom("manifest_chunks").select("id").where("id", "in", ids).execute(),
      /too many SQL variables/,
      "one unbatched statement cannot take them",
    );

    await insertManifestChunks(db, chunks);
    await insertManifestChunks(db, chunks.slice(0, 10)); // stored again: kept, not an error
    const loaded = await manifestChunksByIds(db, [...ids, "0".repeat(64)]);
    assert.equal(loaded.length, count, "every chunk, and nothing for an id never stored");
    const byId = new Map(loaded.map((r) => [r.id, r.data.toString()]));
    assert.equal(byId.get(ids[0]), "chunk 0");
    assert.equal(byId.get(ids[count - 1]), `chunk ${count - 1}`);
  });
});
