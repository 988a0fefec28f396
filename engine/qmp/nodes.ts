import { NotFoundError } from "../errors";
import type { QmpClient } from "./client";

/** A dirty bitmap as QEMU reports it: what the tracker needs to trust (or distrust) its list of changes. */
export interface DirtyBitmap {
  name: string;
  /** Whether writes are being recorded now (false when disabled, or when inconsistent). */
  recording: boolean;
  /** In use by an operation (an NBD export, a backup job): it cannot be changed or removed meanwhile. */
  busy: boolean;
  /** Stored in the qcow2 image when QEMU closes it, and loaded again when QEMU opens it. */
  persistent: boolean;
  /**
   * The bitmap cannot be trusted: QEMU loaded it from an image that was not closed cleanly (the process
   * was killed while the bitmap was in use). Such a bitmap only records nothing and can only be removed.
   */
  inconsistent: boolean;
  granularity: number;
  /** Dirty bytes. */
  count: number;
}

export interface BlockNode {
  nodeName: string;
  /** The block driver: qcow2, raw, file, ... */
  driver: string;
  /** The file name QEMU reports for the node (for a format node, the image file under it). */
  file: string;
  /** Virtual size in bytes: the size a guest sees. */
  size: number;
  readOnly: boolean;
  dirtyBitmaps: DirtyBitmap[];
}

interface RawBitmap {
  name?: string;
  recording?: boolean;
  busy?: boolean;
  persistent?: boolean;
  inconsistent?: boolean;
  granularity: number;
  count: number;
}

interface RawNode {
  "node-name": string;
  drv: string;
  file: string;
  ro: boolean;
  image: { "virtual-size": number };
  "dirty-bitmaps"?: RawBitmap[];
}

/** QEMU leaves a flag out when it is false (`inconsistent` appears only when set); anonymous bitmaps are internal. */
const bitmap = (raw: RawBitmap & { name: string }): DirtyBitmap => ({
  name: raw.name,
  recording: raw.recording ?? false,
  busy: raw.busy ?? false,
  persistent: raw.persistent ?? false,
  inconsistent: raw.inconsistent ?? false,
  granularity: raw.granularity,
  count: raw.count,
});

/** Every named block node of the QEMU process, with its dirty bitmaps (`query-named-block-nodes`, flat). */
export async function blockNodes(client: QmpClient): Promise<BlockNode[]> {
  const nodes = await client.execute<RawNode[]>("query-named-block-nodes", { flat: true });
  return nodes.map((raw) => ({
    nodeName: raw["node-name"],
    driver: raw.drv,
    file: raw.file,
    size: raw.image["virtual-size"],
    readOnly: raw.ro,
    dirtyBitmaps: (raw["dirty-bitmaps"] ?? []).filter((b): b is RawBitmap & { name: string } => typeof b.name === "string").map(bitmap),
  }));
}

/** The named node, or NotFound naming it. */
export async function blockNode(client: QmpClient, nodeName: string): Promise<BlockNode> {
  const node = (await blockNodes(client)).find((n) => n.nodeName === nodeName);
  if (!node) throw new NotFoundError("block node", nodeName, "node", `QEMU at ${client.socketPath} has no block node '${nodeName}'`);
  return node;
}

/** The named bitmap of a node, or undefined when QEMU has none of that name there (a lost bitmap). */
export async function findBitmap(client: QmpClient, nodeName: string, name: string): Promise<DirtyBitmap | undefined> {
  return (await blockNode(client, nodeName)).dirtyBitmaps.find((b) => b.name === name);
}
