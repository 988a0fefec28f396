import { ValidationError } from "../../schema";
import type { DiskRow } from "../catalog/disks";
import type { ItemRow } from "../catalog/items";

/**
 * Where replication reads a disk now, and how it finds the changes: a file or block device it scans (the
 * default), or a block node of the QEMU serving the machine, tracked by dirty bitmap. A machine on a kvm site
 * is read through its QEMU while it runs at the primary site; once failed over and reprotected, its source is
 * the recovery machine's disk files, scanned.
 */
export type DiskSource =
  | { kind: "file"; path: string }
  | {
      kind: "qemu";
      qmp: string;
      node: string;
      /** The checkpoint the replica was read at (null: the next capture reads the whole disk). */
      checkpoint: string | null;
    };

export function diskSource(item: Pick<ItemRow, "qmp" | "active_site">, disk: Pick<DiskRow, "path" | "checkpoint">): DiskSource {
  if (item.qmp !== null && item.active_site === "primary") return { kind: "qemu", qmp: item.qmp, node: disk.path, checkpoint: disk.checkpoint };
  return { kind: "file", path: disk.path };
}

/** Unix socket paths are limited to 107 bytes; QEMU's NBD server for views is put beside its QMP socket. */
const MAX_SOCKET_PATH = 107;

/** The socket of the NBD server Lifeboat starts in the QEMU at `qmp` to read its views (QEMU 7.2 cannot say where one already runs). */
export function nbdSocketFor(qmp: string): string {
  const socket = `${qmp}.nbd`;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw ValidationError.refused("qmp", `${qmp} is too long a path: the NBD socket beside it (${socket}) would pass the 107-byte limit of unix sockets`);
  }
  return socket;
}
