import { z } from "zod";
import { Command, fsPath, Name } from "./common";
import { NicSpec, RecoverySettings } from "./recovery";

/**
 * A QEMU block node name (QEMU allows letters, digits, '-', '.', '_', starting with a letter, up to 31
 * characters); list a process's nodes with QMP `query-named-block-nodes`.
 */
export const BlockNode = z
  .string()
  .min(1, "must not be empty")
  .max(31, "must be at most 31 characters (QEMU's limit for node names)")
  .regex(/^[A-Za-z][A-Za-z0-9._-]*$/, "must start with a letter and use only letters, digits, '.', '_' and '-' (a QEMU node name)");

/** A disk is a file the engine reads (`path`) or, on a machine served by QEMU, a block node of that QEMU (`node`). */
export const DiskSpec = z
  .strictObject({
    name: Name,
    /** A regular file (disk image) or a block device. */
    path: fsPath("must name a file or block device").optional(),
    /** The block node the guest's disk is (the format node, e.g. `os` from `-blockdev driver=qcow2,node-name=os,...`). */
    node: BlockNode.optional(),
    os: z.boolean().default(false),
  })
  .superRefine((disk, ctx) => {
    if (disk.path === undefined && disk.node === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["path"],
        message: "a disk needs a path (a file or block device) or a node (a QEMU block node, with the machine's qmp)",
      });
    if (disk.path !== undefined && disk.node !== undefined)
      ctx.addIssue({ code: "custom", path: ["node"], message: "a disk is either a path or a QEMU block node, not both" });
  });
export type DiskSpec = z.infer<typeof DiskSpec>;

export const Hooks = z.strictObject({
  /** Crash-consistent capture of a live machine: stop it, capture, continue it. */
  pause: Command.optional(),
  resume: Command.optional(),
  /** App-consistent capture: flush and hold application writes (like VSS), then release them. */
  quiesce: Command.optional(),
  unquiesce: Command.optional(),
  /** Shuts the source machine down (planned failover; unplanned with "shut down source first"). */
  shutdown: Command.optional(),
  /** Starts the source machine again after a failback to it. */
  start: Command.optional(),
});
export type Hooks = z.infer<typeof Hooks>;

export const OsType = z.enum(["linux", "windows"]);

export const ItemSpec = z
  .strictObject({
    name: Name,
    site: Name,
    host: Name.optional(),
    policy: Name,
    generation: z.union([z.literal(1), z.literal(2)]).default(2),
    osType: OsType.default("linux"),
    /**
     * The QMP socket of the QEMU process serving the machine's disks (a KVM guest or qemu-storage-daemon), for a
     * machine on a kvm site; its disks then name block nodes of that QEMU.
     */
    qmp: fsPath("must name the QMP socket of the QEMU process serving the disks").optional(),
    disks: z.array(DiskSpec).min(1, "a machine needs at least one disk"),
    excludedDisks: z.array(Name).default([]),
    group: Name.optional(),
    hooks: Hooks.default({}),
    /** Source NICs and their networks; network mappings turn these into recovery networks. */
    nics: z.array(NicSpec).default([]),
    recovery: RecoverySettings.optional(),
  })
  .superRefine((item, ctx) => {
    const names = item.disks.map((d) => d.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["disks", i, "name"], message: `duplicate disk name '${n}'` });
    });
    item.disks.forEach((d, i) => {
      if (item.qmp !== undefined && d.path !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["disks", i, "path"],
          message: "a machine served by QEMU (qmp) names its disks by block node ('node'), not path",
        });
      if (item.qmp === undefined && d.node !== undefined)
        ctx.addIssue({ code: "custom", path: ["disks", i, "node"], message: "a disk named by block node needs the machine's QMP socket ('qmp')" });
    });
    const osDisks = item.disks.filter((d) => d.os);
    if (osDisks.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["disks"], message: `exactly one disk must be the OS disk (found ${osDisks.length})` });
    }
    item.excludedDisks.forEach((n, i) => {
      const disk = item.disks.find((d) => d.name === n);
      if (!disk) ctx.addIssue({ code: "custom", path: ["excludedDisks", i], message: `no disk named '${n}'` });
      else if (disk.os) ctx.addIssue({ code: "custom", path: ["excludedDisks", i], message: `'${n}' is the OS disk, which cannot be excluded` });
    });
    for (const [hook, pair] of [
      ["pause", "resume"],
      ["quiesce", "unquiesce"],
    ] as const) {
      if (Boolean(item.hooks[hook]) !== Boolean(item.hooks[pair])) {
        ctx.addIssue({ code: "custom", path: ["hooks", item.hooks[hook] ? pair : hook], message: `'${hook}' and '${pair}' must be given together` });
      }
    }
  });
export type ItemSpec = z.infer<typeof ItemSpec>;
export type ItemSpecInput = z.input<typeof ItemSpec>;
