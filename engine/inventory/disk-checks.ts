import type { DiskSpec, FieldFailure } from "../../schema";
import { checkDisk } from "../disks/disk-check";
import { checkQemuDisks } from "../tracking/qemu-disks";
import { nbdSocketFor } from "../tracking/disk-source";
import { errorMessage } from "../errors";

/** Where a disk is reached, as the catalog stores it: a file's path, or (for a machine served by QEMU) its block node. */
export const diskLocation = (disk: Pick<DiskSpec, "path" | "node">): string => disk.path ?? disk.node!;

/** The disks to check and how: by file, or as block nodes of the QEMU at `qmp`. */
export interface DisksToCheck {
  qmp?: string;
  disks: Array<Pick<DiskSpec, "name" | "path" | "node">>;
  excludedDisks?: string[];
}

/** A readable disk's size, or the failure naming its property. */
export type DiskCheck = { disk: string; size: number; failure?: undefined } | { disk?: undefined; size?: undefined; failure: FieldFailure };

/**
 * Check that each included disk can be read here: a file or block device that is readable (inside the
 * allowed directories: `confine`), or a block node of the machine's QEMU. The failure names the property
 * (`disks.N.path` / `disks.N.node`, or `qmp` when the monitor does not answer or is not allowed).
 */
export async function checkDisks(item: DisksToCheck, confine?: (file: string) => string | undefined): Promise<DiskCheck[]> {
  const included = [...item.disks.entries()].filter(([, d]) => !(item.excludedDisks ?? []).includes(d.name));
  if (item.qmp !== undefined) return checkNodes(item.qmp, included, confine);
  const out: DiskCheck[] = [];
  for (const [i, d] of included) {
    if (d.path === undefined) continue; // the schema reports it
    // Confinement first: a path outside the allowed directories is not even looked at.
    const outside = confine?.(d.path);
    const checked = outside === undefined ? await checkDisk(d.path) : { problem: outside };
    out.push(
      checked.problem === undefined
        ? { disk: d.name, size: checked.size! }
        : { failure: { property: `disks.${i}.path`, reason: `${d.path} ${checked.problem}` } },
    );
  }
  return out;
}

async function checkNodes(
  qmp: string,
  included: Array<[number, DisksToCheck["disks"][number]]>,
  confine?: (file: string) => string | undefined,
): Promise<DiskCheck[]> {
  const outside = confine?.(qmp);
  if (outside) return [{ failure: { property: "qmp", reason: `${qmp} ${outside}` } }];
  try {
    nbdSocketFor(qmp);
  } catch (error) {
    return [{ failure: { property: "qmp", reason: errorMessage(error) } }];
  }
  const checked = await checkQemuDisks(
    qmp,
    included.map(([, d]) => d.node ?? ""),
  );
  if ("unreachable" in checked) return [{ failure: { property: "qmp", reason: `${qmp} ${checked.unreachable}` } }];
  return included.map(([i, d], n) => {
    const { size, problem } = checked.nodes[n];
    return problem === undefined ? { disk: d.name, size } : { failure: { property: `disks.${i}.node`, reason: `${d.node} ${problem}` } };
  });
}
