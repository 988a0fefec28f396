import { promises as fs } from "node:fs";
import type { Random } from "./random";

/** The unit the image is built and changed in; also the engine's default block size. */
export const BLOCK_BYTES = 64 * 1024;

/** What a block holds. Text and pattern blocks are the compressible share. */
export type BlockKind = "zero" | "text" | "pattern" | "random";

/** A disk's mix: about 30% zero, 40% compressible (text or repeated records), 30% random bytes. */
const MIX: Record<BlockKind, number> = { zero: 0.3, text: 0.2, pattern: 0.2, random: 0.3 };

/** Blocks written per write call while building the image: 4 MiB keeps syscalls few and memory small. */
const WRITE_BATCH_BLOCKS = 64;

const VOCABULARY = (
  "the of and to in is was that for on with as by at from this be are or an it not which have had " +
  "disk block vault replica host site policy point cycle error warning info debug request response user " +
  "session cache index table row page commit checkpoint journal write read sync flush open close retry " +
  "timeout connection server client service started stopped failed succeeded 0 1 2 3 42 200 404 500"
)
  .split(" ")
  .map((word) => Buffer.from(word));
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Log-like text: random words from a small vocabulary, in lines (compresses about 3:1 with zstd). */
function fillText(target: Uint8Array, random: Random): void {
  let at = 0;
  while (at < target.length) {
    const word = VOCABULARY[random.below(VOCABULARY.length)];
    // A byte loop: words are a few bytes, where Buffer.copy's call overhead would dominate.
    for (let i = 0; i < word.length && at < target.length; i++) target[at++] = word[i];
    if (at < target.length) target[at++] = random.below(12) === 0 ? NEWLINE : SPACE;
  }
}

/** One random record (16 B to 4 KiB) repeated: fixed-size rows, padding, sparse structures. */
function fillPattern(target: Uint8Array, random: Random): void {
  const record = new Uint8Array(16 + random.below(4096 - 16));
  random.fill(record);
  for (let at = 0; at < target.length; at += record.length) target.set(record.subarray(0, target.length - at), at);
}

function fillBlock(target: Uint8Array, kind: BlockKind, random: Random): void {
  if (kind === "zero") target.fill(0);
  else if (kind === "text") fillText(target, random);
  else if (kind === "pattern") fillPattern(target, random);
  else random.fill(target);
}

/** New content for a changed block: half text, half random, as a write of mixed data would leave it. */
export function fillChanged(target: Uint8Array, random: Random): void {
  const half = target.length / 2;
  fillText(target.subarray(0, half), random);
  random.fill(target.subarray(half));
}

/** The kind of every block, in the MIX proportions exactly, in random places. */
function layout(blocks: number, random: Random): BlockKind[] {
  const kinds: BlockKind[] = [];
  for (const [kind, share] of Object.entries(MIX) as Array<[BlockKind, number]>) {
    for (let n = Math.round(blocks * share); n > 0 && kinds.length < blocks; n--) kinds.push(kind);
  }
  while (kinds.length < blocks) kinds.push("random"); // rounding remainder
  return random.shuffle(kinds);
}

export type ImageLayout = Record<BlockKind, number>;

/**
 * Write a disk image of `blocks` blocks with the MIX content, zeros written out (not sparse) so reading
 * it costs what reading a used disk does; synced so the page cache can be dropped before measuring.
 */
export async function makeImage(file: string, blocks: number, random: Random): Promise<ImageLayout> {
  const kinds = layout(blocks, random);
  const counts: ImageLayout = { zero: 0, text: 0, pattern: 0, random: 0 };
  const batch = Buffer.alloc(WRITE_BATCH_BLOCKS * BLOCK_BYTES);
  const handle = await fs.open(file, "w");
  try {
    for (let first = 0; first < blocks; first += WRITE_BATCH_BLOCKS) {
      const count = Math.min(WRITE_BATCH_BLOCKS, blocks - first);
      for (let i = 0; i < count; i++) {
        const kind = kinds[first + i];
        counts[kind]++;
        fillBlock(batch.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES), kind, random);
      }
      await handle.write(batch, 0, count * BLOCK_BYTES, first * BLOCK_BYTES);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return counts;
}

/** `fraction` of an image's blocks (at least one), chosen at random: the blocks a round changes, ascending. */
export const pickChangedBlocks = (blocks: number, fraction: number, random: Random): number[] =>
  random.distinct(blocks, Math.max(1, Math.round(blocks * fraction)));

/** Overwrite `fraction` of the image's blocks, chosen at random, with new mixed content; returns their indexes. */
export async function changeBlocks(file: string, blocks: number, fraction: number, random: Random): Promise<number[]> {
  const indexes = pickChangedBlocks(blocks, fraction, random);
  const block = Buffer.alloc(BLOCK_BYTES);
  const handle = await fs.open(file, "r+");
  try {
    for (const index of indexes) {
      fillChanged(block, random);
      await handle.write(block, 0, BLOCK_BYTES, index * BLOCK_BYTES);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return indexes;
}
