// The contract every Backend (engine/store/backend.ts) keeps, as restic tests its backends: one suite, run
// against each implementation and wrapper (test/store-conformance.test.ts; an object-storage backend adds
// itself there). Each test states one clause of the interface's comments.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import type { Backend } from "../../engine/store/backend";

export interface BackendHarness {
  backend: Backend;
  /** Another backend on the same location, as another process (an agent) or a restart opens it. */
  reopen(): Backend;
  /**
   * Leave what a put whose writer stopped part-way leaves (its process was killed): resolves once the
   * partial object is there. Optional: a backend whose uploads leave nothing behind has no leftovers.
   */
  interruptPut?(name: string, data: Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

/** The error a rejected promise carries, for its code. */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a rejection");
}

const names = (list: { name: string }[]) => list.map((o) => o.name).sort();

export function describeBackendConformance(label: string, make: () => Promise<BackendHarness>): void {
  describe(`Backend conformance: ${label}`, () => {
    let h: BackendHarness;
    let backend: Backend;
    beforeEach(async () => {
      h = await make();
      backend = h.backend;
    });
    afterEach(async () => {
      await backend.close();
      await h.cleanup();
    });

    it("put then get gives the parts back as one object, whole and in any range within it", async () => {
      const parts = [randomBytes(1000), randomBytes(1), Buffer.alloc(0), randomBytes(70_000)];
      const whole = Buffer.concat(parts);
      await backend.put("packs/ab/one.pack", parts);
      assert.ok((await backend.get("packs/ab/one.pack")).equals(whole));
      assert.ok((await backend.get("packs/ab/one.pack", 0, whole.length)).equals(whole));
      assert.ok((await backend.get("packs/ab/one.pack", 999, 2)).equals(whole.subarray(999, 1001)), "a range across parts");
      assert.ok((await backend.get("packs/ab/one.pack", whole.length - 1, 1)).equals(whole.subarray(whole.length - 1)), "the last byte");
      assert.equal((await backend.get("packs/ab/one.pack", whole.length, 0)).length, 0, "an empty range at the end");
      assert.ok((await backend.get("packs/ab/one.pack", 1001)).equals(whole.subarray(1001)), "an offset alone reads to the end");
      assert.equal((await backend.stat("packs/ab/one.pack"))?.size, whole.length);
      assert.equal(await backend.has("packs/ab/one.pack"), true);
      // The same object read again through a reader that keeps it open, and by another opener.
      assert.ok((await backend.get("packs/ab/one.pack", 5, 10)).equals(whole.subarray(5, 15)));
      const other = h.reopen();
      assert.ok((await other.get("packs/ab/one.pack", 5, 10)).equals(whole.subarray(5, 15)));
      await other.close();
    });

    it("a range that runs past the end rejects as a short read (EIO), and so does an offset past the end", async () => {
      const data = randomBytes(4096);
      await backend.put("packs/ab/short.pack", [data]);
      for (const [offset, length] of [
        [4095, 2],
        [0, 4097],
        [4097, 0],
        [10_000, 10],
      ]) {
        const error = await rejection(backend.get("packs/ab/short.pack", offset, length));
        assert.equal(error.code, "EIO", `${offset}+${length}: ${error.message}`);
        assert.match(error.message, /short read/);
      }
      assert.equal((await rejection(backend.get("packs/ab/short.pack", 4097))).code, "EIO", "an offset alone past the end");
    });

    it("an empty object is an object", async () => {
      await backend.put("packs/ab/empty.pack", []);
      assert.equal((await backend.get("packs/ab/empty.pack")).length, 0);
      assert.equal((await backend.stat("packs/ab/empty.pack"))?.size, 0);
      assert.deepEqual(names(await backend.list("packs/")), ["packs/ab/empty.pack"]);
    });

    it("a missing object: stat is undefined, has is false, get rejects with ObjectMissing naming it; a prefix of objects is no object", async () => {
      await backend.put("packs/ab/present.pack", [randomBytes(100)]);
      for (const name of ["packs/ab/absent.pack", "packs/ab", "packs", "packs/ab/present.pack/below"]) {
        assert.equal(await backend.stat(name), undefined, `stat ${name}`);
        assert.equal(await backend.has(name), false, `has ${name}`);
        for (const read of [backend.get(name), backend.get(name, 0, 10)]) {
          const error = await rejection(read);
          assert.equal(error.code, "ObjectMissing", `get ${name}: ${error.message}`);
          assert.ok(error.message.includes(name), error.message);
        }
      }
    });

    it("put of an existing name replaces the object whole, for readers that had it open too", async () => {
      const first = randomBytes(5000);
      const second = randomBytes(3000);
      await backend.put("packs/ab/same.pack", [first]);
      assert.ok((await backend.get("packs/ab/same.pack", 0, 100)).equals(first.subarray(0, 100)), "read (and kept open)");
      const writer = h.reopen();
      await writer.put("packs/ab/same.pack", [second]);
      await writer.close();
      assert.ok((await backend.get("packs/ab/same.pack", 0, 100)).equals(second.subarray(0, 100)), "the new object, not the one read before");
      assert.ok((await backend.get("packs/ab/same.pack")).equals(second));
      assert.equal((await backend.stat("packs/ab/same.pack"))?.size, second.length);
      assert.deepEqual(names(await backend.list("")), ["packs/ab/same.pack"]);
    });

    it("list gives the objects whose names start with the prefix, and only those, with their sizes (in no set order)", async () => {
      const objects: Record<string, number> = { "packs/aa/1.pack": 10, "packs/ab/2.pack": 20, "packs/ab/3.pack": 0, "other/4": 40, packsake: 50 };
      for (const [name, size] of Object.entries(objects)) await backend.put(name, [randomBytes(size)]);
      const listed = await backend.list("packs/");
      assert.deepEqual(names(listed), ["packs/aa/1.pack", "packs/ab/2.pack", "packs/ab/3.pack"]);
      for (const o of listed) {
        assert.equal(o.size, objects[o.name], o.name);
        assert.ok(Number.isFinite(o.modifiedAt) && o.modifiedAt > 0, `${o.name}: modifiedAt ${o.modifiedAt}`);
      }
      assert.deepEqual(names(await backend.list("packs/ab/")), ["packs/ab/2.pack", "packs/ab/3.pack"]);
      assert.deepEqual(
        names(await backend.list("packs")),
        ["packs/aa/1.pack", "packs/ab/2.pack", "packs/ab/3.pack", "packsake"],
        "a prefix is a string prefix, not a folder",
      );
      assert.deepEqual(names(await backend.list("")), Object.keys(objects).sort());
      assert.deepEqual(await backend.list("nothing/"), []);
    });

    it("delete removes an object for every reader; deleting a missing one does nothing and succeeds", async () => {
      await backend.put("packs/ab/gone.pack", [randomBytes(2000)]);
      await backend.put("packs/ab/kept.pack", [randomBytes(2000)]);
      assert.equal((await backend.get("packs/ab/gone.pack", 0, 10)).length, 10, "read (and kept open)");
      const other = h.reopen();
      await other.delete("packs/ab/gone.pack");
      await other.close();
      assert.equal((await rejection(backend.get("packs/ab/gone.pack", 0, 10))).code, "ObjectMissing", "gone for a reader that had it open");
      assert.equal(await backend.stat("packs/ab/gone.pack"), undefined);
      assert.deepEqual(names(await backend.list("")), ["packs/ab/kept.pack"]);
      await backend.delete("packs/ab/gone.pack");
      await backend.delete("packs/never/was.pack");
      assert.deepEqual(names(await backend.list("")), ["packs/ab/kept.pack"]);
    });

    it("put is atomic: readers during a large put see no object, or all of it", async () => {
      const parts = Array.from({ length: 6 }, () => randomBytes(4 * 1024 * 1024));
      const whole = Buffer.concat(parts);
      const reader = h.reopen();
      let done = false;
      const put = backend.put("packs/ab/big.pack", parts).finally(() => (done = true));
      let seen = 0;
      while (!done) {
        seen++;
        const info = await reader.stat("packs/ab/big.pack");
        if (info) assert.equal(info.size, whole.length, "stat of a partial object");
        for (const o of await reader.list("packs/")) assert.equal(o.size, whole.length, "a partial object listed");
        const data = await reader.get("packs/ab/big.pack").catch((e) => (e.code === "ObjectMissing" ? undefined : Promise.reject(e)));
        if (data) assert.ok(data.equals(whole), "a partial object read");
      }
      await put;
      assert.ok(seen > 0);
      assert.ok((await reader.get("packs/ab/big.pack")).equals(whole));
      assert.deepEqual(await reader.leftovers(), [], "a put that completed leaves nothing behind");
      await reader.close();
    });

    it("a name that leads outside the backend is refused, and nothing is written", async () => {
      for (const name of ["../outside", "packs/../../outside"]) await assert.rejects(backend.put(name, [randomBytes(10)]), /escapes the store/);
      assert.deepEqual(await backend.list(""), []);
    });

    it("what an interrupted put leaves is no object: readers do not see it, leftovers lists it and delete removes it", async function () {
      if (!h.interruptPut) return this.skip();
      await backend.put("packs/ab/whole.pack", [randomBytes(1000)]);
      await h.interruptPut("packs/cd/cut.pack", randomBytes(256 * 1024));
      const reader = h.reopen();
      assert.deepEqual(names(await reader.list("")), ["packs/ab/whole.pack"]);
      assert.equal(await reader.stat("packs/cd/cut.pack"), undefined);
      assert.equal(await reader.has("packs/cd/cut.pack"), false);
      assert.equal((await rejection(reader.get("packs/cd/cut.pack"))).code, "ObjectMissing");
      const left = await reader.leftovers();
      assert.equal(left.length, 1, JSON.stringify(left));
      assert.ok(left[0].size > 0 && left[0].size <= 256 * 1024, `${left[0].size} bytes left`);
      assert.ok(!left.some((o) => o.name === "packs/ab/whole.pack"));
      await reader.delete(left[0].name);
      assert.deepEqual(await reader.leftovers(), []);
      assert.deepEqual(names(await reader.list("")), ["packs/ab/whole.pack"], "deleting a leftover touches no object");
      await reader.close();
    });

    it("close lets go of the backend; the objects stay for the next opener, and closing twice is harmless", async () => {
      const data = randomBytes(3000);
      await backend.put("packs/ab/stays.pack", [data]);
      assert.equal((await backend.get("packs/ab/stays.pack", 0, 3000)).length, 3000);
      await backend.close();
      await backend.close();
      const next = h.reopen();
      assert.ok((await next.get("packs/ab/stays.pack")).equals(data));
      await next.close();
    });

    it("where names the backend's location, and a backend opened on the same location says the same", async () => {
      assert.ok(backend.where.length > 0);
      const other = h.reopen();
      assert.equal(other.where, backend.where);
      await other.close();
    });
  });
}
