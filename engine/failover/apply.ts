import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault } from "../vault";
import { EngineError } from "../errors";
import { isZero } from "../disks/hashing";
import { blockId } from "../store/block-id";
import { loadPointMap } from "../replication/manifests";
import { ZERO_ID } from "../replication/block-map";
import type { Task } from "../jobs/jobs";
import { writeAll } from "../io/write-all";
import { exists } from "../io/exists";

export interface ApplyResult {
  blocksCompared: number;
  blocksWritten: number;
  bytesWritten: number;
}

/**
 * Make disk files equal to a recovery point. By delta (default): each existing block is read and compared
 * by SHA-256 with the point's, and only differing blocks are written: what a failback to the original
 * location transfers. With full, every block of the point is written (a missing file is created either
 * way, sparse where zero). Files are synced before this resolves.
 */
export async function applyPoint(
  vault: Vault,
  pointId: string,
  targets: Array<{ diskId: number; path: string }>,
  options: { full: boolean },
  task?: Task,
): Promise<ApplyResult> {
  const result: ApplyResult = { blocksCompared: 0, blocksWritten: 0, bytesWritten: 0 };
  for (const target of targets) {
    const map = await loadPointMap(vault, pointId, target.diskId);
    await fs.mkdir(path.dirname(target.path), { recursive: true });
    const existed = await exists(target.path);
    const handle = await fs.open(target.path, existed ? "r+" : "w");
    try {
      await handle.truncate(map.size);
      const current = Buffer.allocUnsafe(map.blockSize);
      for (let index = 0; index < map.count; index++) {
        const id = map.id(index);
        const offset = index * map.blockSize;
        const length = Math.min(map.blockSize, map.size - offset);
        if (existed && !options.full) {
          const { bytesRead } = await handle.read(current, 0, length, offset);
          const block = current.subarray(0, bytesRead);
          result.blocksCompared++;
          if (id.equals(ZERO_ID) ? bytesRead === length && isZero(block) : bytesRead === length && blockId(block).equals(id)) continue;
        } else if (id.equals(ZERO_ID) && !existed) {
          continue; // a new file is sparse: zero blocks stay holes
        }
        const data = id.equals(ZERO_ID) ? Buffer.alloc(length) : await vault.store.get(id.toString("hex"));
        if (!id.equals(ZERO_ID) && !blockId(data).equals(id))
          throw new EngineError("BlockDamaged", `block ${index} of ${target.path} is damaged in the store; run a resync`);
        await writeAll(handle, data, offset, target.path);
        result.blocksWritten++;
        result.bytesWritten += data.length;
        if (task && index % 256 === 0) await task.progress(index / map.count);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return result;
}
