// The stored form of a block: a codec byte (raw or zstd) and the payload. Every block the vault holds
// goes through encodeFrame on the way in and decodeFrame or decodeFrameInto on the way out.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { BLOCK_SIZE } from "../../engine/disks/block-reader";
import { EngineError } from "../../engine/errors";
import { decodedSize, decodeFrame, decodeFrameInto, encodeFrame, frameBound, frameParts, rawBlock } from "../../engine/codec/frame";

const RAW = 0;
const ZSTD = 1;
const LEVEL = 1;
/** Text-like data zstd shrinks, and random data it cannot. */
const compressible = (length: number) => Buffer.from("lifeboat block ".repeat(Math.ceil(length / 15)).slice(0, length));
const incompressible = (length: number) => randomBytes(length);

/** Everything a reader can do with a frame, each of which must give the block back. */
function assertDecodes(frame: Buffer, data: Buffer) {
  assert.ok(decodeFrame("b", frame).equals(data), "decodeFrame");
  assert.equal(decodedSize(frame), data.length, "decodedSize");
  const target = Buffer.alloc(data.length);
  decodeFrameInto(frame, target);
  assert.ok(target.equals(data), "decodeFrameInto");
}

const blockDamaged = (run: () => unknown, message: RegExp) =>
  assert.throws(run, (error: unknown) => error instanceof EngineError && error.code === "BlockDamaged" && message.test(error.message));

describe("the frame codec (engine/store/compress/frame.ts)", () => {
  for (const size of [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE]) {
    it(`round-trips ${size} byte${size === 1 ? "" : "s"} of compressible and of random data, compressing only what shrinks`, () => {
      for (const data of [compressible(size), incompressible(size)]) {
        const frame = encodeFrame(data, LEVEL);
        assert.ok(frame.length <= frameBound(size), "within frameBound");
        assert.ok(frame.length <= size + 1, "never more than the block and its codec byte");
        if (frame[0] === RAW) assert.equal(Buffer.compare(rawBlock(frame)!, data), 0);
        else assert.equal(rawBlock(frame), undefined);
        assertDecodes(frame, data);
      }
    });
  }

  it("uses zstd for a block that shrinks and keeps a random or tiny block raw", () => {
    assert.equal(encodeFrame(compressible(BLOCK_SIZE), LEVEL)[0], ZSTD);
    assert.ok(encodeFrame(compressible(BLOCK_SIZE), LEVEL).length < BLOCK_SIZE / 10);
    assert.equal(encodeFrame(incompressible(BLOCK_SIZE), LEVEL)[0], RAW);
    assert.deepEqual([...encodeFrame(Buffer.alloc(0), LEVEL)], [RAW]);
    assert.deepEqual([...encodeFrame(Buffer.of(7), LEVEL)], [RAW, 7]);
  });

  it("gives the same frame as pieces (frameParts), the raw block not copied", () => {
    for (const data of [compressible(BLOCK_SIZE), incompressible(BLOCK_SIZE)]) {
      const parts = frameParts(data, LEVEL, Buffer.alloc(frameBound(data.length)));
      assert.ok(Buffer.concat(parts).equals(encodeFrame(data, LEVEL)));
      if (parts.length === 2) assert.equal(parts[1], data);
    }
  });

  it("reports a truncated or damaged compressed frame as a damaged block", () => {
    const data = compressible(BLOCK_SIZE);
    const frame = encodeFrame(data, LEVEL);
    blockDamaged(() => decodeFrame("b1", frame.subarray(0, frame.length - 4)), /block b1 cannot be decompressed/);
    blockDamaged(() => decodeFrame("b1", frame.subarray(0, 3)), /block b1 cannot be decompressed/);
    const flipped = Buffer.from(frame);
    flipped[5] ^= 0xff; // inside zstd's frame header
    blockDamaged(() => decodeFrame("b1", flipped), /block b1 cannot be decompressed/);
    assert.throws(() => decodeFrameInto(frame.subarray(0, frame.length - 4), Buffer.alloc(BLOCK_SIZE)));
  });

  it("refuses a frame of an unknown codec, or an empty one, and knows no size for it", () => {
    blockDamaged(() => decodeFrame("b2", Buffer.of(7, 1, 2, 3)), /block b2 has an unknown codec 7/);
    blockDamaged(() => decodeFrame("b2", Buffer.alloc(0)), /block b2 has an unknown codec/);
    assert.equal(decodedSize(Buffer.of(7, 1, 2, 3)), undefined);
    assert.equal(decodedSize(Buffer.alloc(0)), undefined);
    assert.throws(() => decodeFrameInto(Buffer.of(7, 1), Buffer.alloc(1)), /unknown codec 7/);
  });

  it("refuses to decode into a target of another size than the frame holds", () => {
    for (const data of [compressible(BLOCK_SIZE), incompressible(BLOCK_SIZE)]) {
      const frame = encodeFrame(data, LEVEL);
      assert.throws(() => decodeFrameInto(frame, Buffer.alloc(BLOCK_SIZE + 1)));
      if (frame[0] === RAW)
        assert.throws(
          () => decodeFrameInto(frame.subarray(0, frame.length - 1), Buffer.alloc(BLOCK_SIZE)),
          /decoded 65535 bytes where the frame promised 65536/,
        );
    }
  });
});
