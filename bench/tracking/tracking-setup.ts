// The tracking suite's stage: a raw image served by QEMU, and the same disk protected twice, once through
// QEMU's dirty bitmaps (a kvm site) and once as a file the engine scans (a hyperv site).
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { type StorageDaemon, startStorageDaemon } from "../../test/fixtures/qemu";
import { plainCopy } from "../common/baselines";
import { timed } from "../common/measure";
import { lifeboat } from "./lifeboat-cli";

export const ITEM = "vm";

/** Files of one run, all on the file system under test. */
export interface Workspace {
  dir: string;
  image: string;
  /** Vault of the kvm site: cycles follow QEMU's dirty bitmap. */
  trackedVault: string;
  /** Vault of the hyperv site: cycles read the image file and compare every block. */
  scanVault: string;
  /** rsync's destination: the image as of the last round. */
  rsyncCopy: string;
  /** QEMU's sockets (unix socket paths must stay short). */
  qemuDir: string;
  /** Temporary files of the bench itself (GNU time's output, the blocks to write). */
  scratch: string;
}

export function workspaceIn(dir: string): Workspace {
  return {
    dir,
    image: path.join(dir, "disk.raw"),
    trackedVault: path.join(dir, "vault-tracked"),
    scanVault: path.join(dir, "vault-scan"),
    rsyncCopy: path.join(dir, "disk.rsync.raw"),
    qemuDir: path.join(dir, "q"),
    scratch: path.join(dir, "scratch"),
  };
}

/** Image, two vaults and rsync's copy: the vaults stay below the image's size (zero blocks and compression), so 4× is enough. */
export const SPACE_FACTOR = 4;

/** Refuse before writing anything when the file system has less than SPACE_FACTOR × the image free. */
export async function checkFreeSpace(dir: string, imageBytes: number, setting: string): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  const needed = SPACE_FACTOR * imageBytes;
  if (free < needed) {
    const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);
    throw new Error(
      `the tracking bench needs ${gib(needed)} GiB free in ${dir} (${SPACE_FACTOR}× the ${gib(imageBytes)} GiB image: the image, two vaults, rsync's copy) ` +
        `and ${gib(free)} GiB are free: set ${setting} to a smaller size`,
    );
  }
}

/** qemu-storage-daemon serving the image as node `disk`, its live export for the writes, its NBD server where the engine looks (`<qmp>.nbd`). */
export async function serveImage(ws: Workspace): Promise<StorageDaemon> {
  await fs.mkdir(ws.qemuDir, { recursive: true });
  return startStorageDaemon({ image: ws.image, format: "raw", dir: ws.qemuDir, nbdSocket: path.join(ws.qemuDir, "qmp.sock.nbd") });
}

export interface InitialFigures {
  /** `lifeboat protect` of each vault (a full read), and cp of the image for rsync: whole commands, warm cache, not targets. */
  trackedProtectMs: number;
  scanProtectMs: number;
  copyMs: number;
}

async function newVault(vault: string, site: string, kind: "kvm" | "hyperv"): Promise<void> {
  await lifeboat(vault, ["vault", "init"]);
  await lifeboat(vault, ["site", "add", site, "--kind", kind]);
  await lifeboat(vault, ["policy", "add", "gold", "--copy-frequency", "30s"]);
}

/** Both vaults made and the disk protected in each, and rsync's destination copied: the state every round starts from. */
export async function protectBoth(ws: Workspace, daemon: StorageDaemon): Promise<InitialFigures> {
  await newVault(ws.trackedVault, "kv", "kvm");
  const tracked = await timed(() =>
    lifeboat(ws.trackedVault, ["protect", ITEM, "--site", "kv", "--policy", "gold", "--qmp", daemon.qmpSocket, "--disk", `os=${daemon.node}:os`]),
  );
  await newVault(ws.scanVault, "hv", "hyperv");
  const scan = await timed(() => lifeboat(ws.scanVault, ["protect", ITEM, "--site", "hv", "--policy", "gold", "--disk", `os=${ws.image}:os`]));
  const copy = await timed(() => plainCopy(ws.image, ws.rsyncCopy));
  return { trackedProtectMs: tracked.ms, scanProtectMs: scan.ms, copyMs: copy.ms };
}
