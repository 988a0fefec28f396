import type { Vault } from "../vault";
import { failuresOf, ItemSpec, type FieldFailure, type ItemCheckResult } from "../../schema";
import { checkDisks } from "./disk-checks";
import { hostHasAgent } from "./hosts";

/** Why a path may not be used here (the daemon's allowed directories), or undefined. */
export type Confine = (value: unknown) => string | undefined;

/**
 * What protecting this item would refuse, checked now and writing nothing: the schema, and each included
 * disk (inside the allowed directories, there, a file or block device, readable; or a block node of the
 * machine's QEMU, whose QMP socket answers). References to sites,
 * policies and hosts are not checked: a deployment may create them after this check. Disks of a machine
 * on an agent's host are that agent's to read, so they are not checked here.
 */
export async function checkItem(vault: Vault, input: unknown, confine?: Confine): Promise<ItemCheckResult> {
  const parsed = ItemSpec.safeParse(input);
  const failures: FieldFailure[] = parsed.success ? [] : failuresOf(parsed.error);
  // The disks are checked even when other fields fail the schema, so every problem shows at once.
  const raw = (input !== null && typeof input === "object" && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
  if (await hostHasAgent(vault, raw.site, raw.host)) return { failures };
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const disks = (Array.isArray(raw.disks) ? raw.disks : []).map((d) => {
    const disk = (d !== null && typeof d === "object" ? d : {}) as Record<string, unknown>;
    return { name: String(disk.name ?? ""), path: text(disk.path), node: text(disk.node) };
  });
  const excludedDisks = Array.isArray(raw.excludedDisks) ? raw.excludedDisks.map(String) : [];
  for (const checked of await checkDisks({ qmp: text(raw.qmp), disks, excludedDisks }, confine)) if (checked.failure) failures.push(checked.failure);
  return { failures };
}
