import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault } from "../vault";
import { EngineError } from "../errors";
import { blockId } from "../disks/hashing";
import type { ItemRow } from "../inventory/items";
import type { Task } from "../jobs/jobs";
import { ZERO_ID } from "./block-map";
import { loadPointMap } from "./manifests";
import { pointView, resolvePoint, type PointView } from "./points";

export interface MaterializedDisk {
  name: string;
  path: string;
  size: number;
}

/**
 * Write each disk of a recovery point as a file named after the disk in outDir: byte-identical to the
 * source at capture time, sparse where blocks are zero. Every block is verified against its id; files
 * appear under their final names only when complete and synced.
 */
export async function materialize(vault: Vault, item: ItemRow, selector: string, outDir: string, task?: Task): Promise<{ point: PointView; disks: MaterializedDisk[] }> {
  const point = await resolvePoint(vault, item, selector);
  const disks = await vault.db
    .selectFrom("point_disks")
    .innerJoin("disks", "disks.id", "point_disks.disk_id")
    .select(["disks.id", "disks.name", "point_disks.size"])
    .where("point_disks.point_id", "=", point.id)
    .orderBy("disks.id")
    .execute();
  await fs.mkdir(outDir, { recursive: true });
  const written: MaterializedDisk[] = [];
  for (const disk of disks) {
    const target = path.join(outDir, disk.name);
    const write = async (sub?: Task) => {
      const map = await loadPointMap(vault.db, point.id, disk.id);
      const tmp = `${target}.partial`;
      const handle = await fs.open(tmp, "w");
      try {
        await handle.truncate(map.size);
        for (let index = 0; index < map.count; index++) {
          const id = map.id(index);
          if (id.equals(ZERO_ID)) continue;
          const hex = id.toString("hex");
          const data = await vault.store.get(hex);
          if (!blockId(data).equals(id)) {
            throw new EngineError("BlockDamaged", `block ${index} of disk '${disk.name}' is damaged in the store (id ${hex}); run 'lifeboat resync ${item.name}'`, false);
          }
          await handle.write(data, 0, data.length, index * map.blockSize);
          if (sub && index % 256 === 0) await sub.progress(index / map.count);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, target);
    };
    await (task ? task.child(`Disk ${disk.name}`, write) : write());
    written.push({ name: disk.name, path: target, size: disk.size });
  }
  return { point: await pointView(vault, point, item.name), disks: written };
}
