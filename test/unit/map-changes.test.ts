// diffMaps is what an agent sends of a disk's block map, applyChanges what the engine rebuilds from it:
// a round trip must give the agent's map exactly, and a malformed report must be refused, naming the
// property, without touching the state it was to apply to.
import { strict as assert } from "node:assert";
import { applyChanges, diffMaps } from "../../engine/agents/wire";
import { BlockMap } from "../../engine/replication/block-map";
import { BLOCK_ID_BYTES } from "../../engine/store/block-id";
import { ValidationError, type DiskChanges } from "../../schema";

const BLOCK = 4096;

/** A map whose block i has an id and change hash derived from `seeds[i]` (0: an all-zero block). */
function mapOf(size: number, seeds: number[]): BlockMap {
  const map = BlockMap.empty(size, BLOCK);
  assert.equal(seeds.length, map.count, "one seed per block");
  seeds.forEach((seed, i) => {
    map.setId(i, Buffer.alloc(BLOCK_ID_BYTES, seed));
    map.hashes[i] = BigInt(seed) * 1_000_003n;
  });
  return map;
}

const changesOf = (base: BlockMap | null, next: BlockMap): DiskChanges => ({ disk: "os", baseVersion: 1, ...diffMaps(base, next) });
// Copied out of the decoded Buffer first: a small one lies inside a shared pool, not at offset 0.
const indexesOf = (changes: DiskChanges) => [...new Uint32Array(new Uint8Array(Buffer.from(changes.indexes, "base64")).buffer)];
const sameMap = (actual: BlockMap, expected: BlockMap) => {
  assert.equal(actual.size, expected.size);
  assert.ok(actual.ids.equals(expected.ids), "the same ids");
  assert.deepEqual([...actual.hashes], [...expected.hashes]);
};
/** The properties the ValidationError applyChanges throws names. */
const refusal = (run: () => unknown): string[] => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `a ValidationError, not ${error}`);
    return error.failures.map((f) => f.property);
  }
  assert.fail("the changes were accepted");
};

describe("diffMaps and applyChanges (an agent's block-map changes)", () => {
  it("sends only the blocks whose id or change hash differ, and applying them gives the agent's map", () => {
    const base = mapOf(4 * BLOCK, [1, 2, 3, 4]);
    const next = mapOf(4 * BLOCK, [1, 9, 3, 4]);
    next.hashes[3] = 77n; // the same id with another change hash is sent too
    const changes = changesOf(base, next);
    assert.deepEqual(indexesOf(changes), [1, 3]);
    const { map, changed } = applyChanges(base, changes, BLOCK, "disks.0");
    sameMap(map, next);
    assert.deepEqual(
      changed.map((id) => id[0]),
      [9, 4],
    );
    sameMap(base, mapOf(4 * BLOCK, [1, 2, 3, 4])); // the base map is not modified
  });

  it("sends nothing for an unchanged disk, and every block when there is no replicated state yet", () => {
    const map = mapOf(3 * BLOCK, [5, 0, 6]);
    assert.deepEqual(indexesOf(changesOf(map, mapOf(3 * BLOCK, [5, 0, 6]))), []);
    sameMap(applyChanges(map, changesOf(map, map), BLOCK, "d").map, map);
    const full = changesOf(null, map);
    assert.deepEqual(indexesOf(full), [0, 1, 2]);
    sameMap(applyChanges(null, full, BLOCK, "d").map, map);
  });

  it("follows a disk that grew or shrank, the last block partial", () => {
    const base = mapOf(2 * BLOCK, [1, 2]);
    const grown = mapOf(3 * BLOCK + 1, [1, 2, 3, 4]);
    assert.deepEqual(indexesOf(changesOf(base, grown)), [2, 3], "blocks beyond the old end");
    sameMap(applyChanges(base, changesOf(base, grown), BLOCK, "d").map, grown);
    const shrunk = mapOf(BLOCK, [1]);
    assert.deepEqual(indexesOf(changesOf(grown, shrunk)), []);
    sameMap(applyChanges(grown, changesOf(grown, shrunk), BLOCK, "d").map, shrunk);
  });

  it("refuses arrays that disagree, a block past the disk's end, or a partial first report, naming the property", () => {
    const base = mapOf(2 * BLOCK, [1, 2]);
    const good = changesOf(base, mapOf(2 * BLOCK, [1, 3]));
    const b64 = (bytes: number[]) => Buffer.from(bytes).toString("base64");
    assert.deepEqual(
      refusal(() => applyChanges(base, { ...good, indexes: b64([1, 0, 0]) }, BLOCK, "disks.0")),
      ["disks.0.indexes"],
    );
    assert.deepEqual(
      refusal(() => applyChanges(base, { ...good, ids: b64([1]) }, BLOCK, "disks.0")),
      ["disks.0.ids"],
    );
    assert.deepEqual(
      refusal(() => applyChanges(base, { ...good, hashes: b64([1, 2, 3]) }, BLOCK, "disks.0")),
      ["disks.0.hashes"],
    );
    assert.deepEqual(
      refusal(() => applyChanges(base, { ...good, indexes: b64([2, 0, 0, 0]) }, BLOCK, "disks.1")),
      ["disks.1.indexes"],
      "block 2 of a 2-block disk",
    );
    assert.deepEqual(
      refusal(() => applyChanges(null, good, BLOCK, "disks.0")),
      ["disks.0.indexes"],
      "one block of two, without a state",
    );
    sameMap(base, mapOf(2 * BLOCK, [1, 2]));
  });
});
