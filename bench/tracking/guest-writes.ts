// A round's change, written as a guest writes: through QEMU's live NBD export, so QEMU's dirty bitmap sees it.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { BLOCK_BYTES, fillChanged } from "../common/image";
import { runCommand } from "../common/measure";
import type { Random } from "../common/random";

/**
 * Give each block new mixed content through `uri` with one qemu-io process reading its commands from stdin.
 * qemu-io's `write -s FILE` fills the write from a file (its -P patterns would be one repeated byte), so each
 * block's content goes to a scratch file first. Returns the wall time of the qemu-io process alone.
 */
export async function writeBlocksThrough(uri: string, indexes: number[], random: Random, scratchDir: string): Promise<number> {
  const dir = path.join(scratchDir, "writes");
  await fs.mkdir(dir, { recursive: true });
  try {
    const block = Buffer.alloc(BLOCK_BYTES);
    const script: string[] = [];
    for (const index of indexes) {
      fillChanged(block, random);
      const file = path.join(dir, `${index}`);
      await fs.writeFile(file, block);
      script.push(`write -q -s ${file} ${index * BLOCK_BYTES} ${BLOCK_BYTES}`);
    }
    script.push("quit", "");
    // qemu-io exits non-zero when a command fails (a file it cannot read, an I/O error of the export).
    const { ms } = await runCommand("qemu-io", ["-f", "raw", uri], process.env, script.join("\n"));
    return ms;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
