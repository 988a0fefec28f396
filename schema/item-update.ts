import { z } from "zod";
import { Name } from "./common";
import { Hooks, ItemSpec, OsType } from "./item";
import { NicSpec, RecoverySettings } from "./recovery";
import { ItemMove } from "./agent";

/**
 * Changes to a protected item in place: a move to another host (ItemMove's fields) and any of its settings.
 * Absent fields stay as they are; `group: null` and `recovery: null` remove them. Hooks are replaced whole.
 */
export const ItemUpdate = z.strictObject({
  host: ItemMove.shape.host.optional(),
  /** Disks' new paths by name; for a machine served by QEMU, their new block nodes. */
  diskPaths: ItemMove.shape.diskPaths,
  /** A machine served by QEMU: its QMP socket, when QEMU now serves it elsewhere (the disks' checkpoints start again). */
  qmp: ItemSpec.shape.qmp,
  policy: Name.optional(),
  hooks: Hooks.optional(),
  recovery: RecoverySettings.nullable().optional(),
  group: Name.nullable().optional(),
  nics: z.array(NicSpec).optional(),
  excludedDisks: z.array(Name).optional(),
  generation: z.union([z.literal(1), z.literal(2)]).optional(),
  osType: OsType.optional(),
});
export type ItemUpdate = z.infer<typeof ItemUpdate>;
export type ItemUpdateInput = z.input<typeof ItemUpdate>;
