import type { Vault } from "../vault";
import { failuresOf, ItemSpec, type FieldFailure, type ItemCheckResult } from "../../schema";
import { checkDisk } from "../disks/disk-check";
import { hostHasAgent } from "./hosts";

/** Why a path may not be used here (the daemon's allowed directories), or undefined. */
export type Confine = (value: unknown) => string | undefined;

/**
 * What protecting this item would refuse, checked now and writing nothing: the schema, and each included
 * disk (inside the allowed directories, there, a file or block device, readable). References to sites,
 * policies and hosts are not checked: a deployment may create them after this check. Disks of a machine
 * on an agent's host are that agent's to read, so they are not checked here.
 */
export async function checkItem(vault: Vault, input: unknown, confine?: Confine): Promise<ItemCheckResult> {
  const parsed = ItemSpec.safeParse(input);
  const failures: FieldFailure[] = parsed.success ? [] : failuresOf(parsed.error);
  // The disks are checked even when other fields fail the schema, so every problem shows at once.
  const raw = (input !== null && typeof input === "object" && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
  if (await hostHasAgent(vault, raw.site, raw.host)) return { failures };
  const excluded = Array.isArray(raw.excludedDisks) ? raw.excludedDisks : [];
  const disks = Array.isArray(raw.disks) ? (raw.disks as Array<{ name?: unknown; path?: unknown } | null>) : [];
  for (const [i, disk] of disks.entries()) {
    const file = disk?.path;
    if (typeof file !== "string" || file === "" || excluded.includes(disk?.name)) continue;
    // Confinement first: a path outside the allowed directories is not even looked at.
    const problem = confine?.(file) ?? (await checkDisk(file)).problem;
    if (problem) failures.push({ property: `disks.${i}.path`, reason: `${file} ${problem}` });
  }
  return { failures };
}
