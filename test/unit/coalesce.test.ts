// coalesce plans getMany's reads: which blocks of a pack one read fetches. A wrong plan reads bytes of
// other blocks as a block's (caught later as damage) or reads far more than asked for.
import { strict as assert } from "node:assert";
import { coalesce, READ_GAP, READ_SPAN } from "../../engine/store/packed/packed-block-store";
import type { IndexEntry } from "../../engine/store/packed/pack-index";

const KiB = 1024;
const entry = (pack: string, offset: number, length: number, id = `${pack}@${offset}`): IndexEntry => ({ id, pack, offset, length });
/** Each span as [pack, start, end, ids]. */
const plan = (entries: IndexEntry[]) => coalesce(entries).map((s) => [s.pack, s.start, s.end, s.entries.map((e) => e.id)]);

describe("coalesce (getMany's read plan)", () => {
  it("plans nothing for no blocks, and one read for one block", () => {
    assert.deepEqual(plan([]), []);
    assert.deepEqual(plan([entry("p1", 100, 50)]), [["p1", 100, 150, ["p1@100"]]]);
  });

  it("reads neighbouring blocks of a pack at once, in offset order, whatever order they were asked in", () => {
    const asked = [entry("p1", 128 * KiB, 64 * KiB), entry("p1", 0, 64 * KiB), entry("p1", 64 * KiB, 64 * KiB)];
    assert.deepEqual(plan(asked), [["p1", 0, 192 * KiB, ["p1@0", "p1@65536", "p1@131072"]]]);
    assert.deepEqual(
      asked.map((e) => e.id),
      ["p1@131072", "p1@0", "p1@65536"],
      "the caller's list is left as it was",
    );
  });

  it("reads each pack apart, packs in name order", () => {
    assert.deepEqual(plan([entry("pb", 0, 10), entry("pa", 10, 10), entry("pb", 10, 10), entry("pa", 0, 10)]), [
      ["pa", 0, 20, ["pa@0", "pa@10"]],
      ["pb", 0, 20, ["pb@0", "pb@10"]],
    ]);
  });

  it("bridges a gap of up to READ_GAP bytes between blocks, and no more", () => {
    assert.equal(plan([entry("p", 0, 100), entry("p", 100 + READ_GAP, 100)]).length, 1);
    assert.deepEqual(plan([entry("p", 0, 100), entry("p", 100 + READ_GAP, 100)])[0].slice(1, 3), [0, 200 + READ_GAP]);
    assert.deepEqual(
      plan([entry("p", 0, 100), entry("p", 101 + READ_GAP, 100)]).map((s) => s.slice(1, 3)),
      [
        [0, 100],
        [101 + READ_GAP, 201 + READ_GAP],
      ],
    );
  });

  it("ends a read at READ_SPAN bytes: a block that would make it longer starts the next one", () => {
    const block = 64 * KiB;
    const blocks = Array.from({ length: READ_SPAN / block + 1 }, (_, i) => entry("p", i * block, block));
    assert.deepEqual(
      plan(blocks).map((s) => s.slice(1, 3)),
      [
        [0, READ_SPAN],
        [READ_SPAN, READ_SPAN + block],
      ],
    );
    assert.deepEqual(
      plan(blocks.slice(0, -1)).map((s) => s.slice(1, 3)),
      [[0, READ_SPAN]],
      "exactly READ_SPAN is one read",
    );
  });

  it("keeps a block asked for twice in the read, without shrinking its end", () => {
    assert.deepEqual(plan([entry("p", 0, 100, "a"), entry("p", 0, 100, "b"), entry("p", 40, 20, "c")]), [["p", 0, 100, ["a", "b", "c"]]]);
  });
});
