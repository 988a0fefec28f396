import { z } from "zod";
import { fsPath, Name } from "./common";

/**
 * hyperv, vmm, physical and kvm sites hold source hosts; recovery sites receive failed-over machines. A kvm
 * site's machines are served by QEMU (a KVM guest or qemu-storage-daemon): their disks are block nodes reached
 * through its QMP socket, and replication follows QEMU's dirty bitmaps instead of reading whole disks.
 */
export const SiteKind = z.enum(["hyperv", "vmm", "physical", "kvm", "recovery"]);
export type SiteKind = z.infer<typeof SiteKind>;

export const SiteSpec = z
  .strictObject({
    name: Name,
    kind: SiteKind,
    /** Recovery sites: the directory where replica machines are materialized. */
    path: fsPath().optional(),
    hosts: z.array(Name).default([]),
  })
  .superRefine((site, ctx) => {
    if (new Set(site.hosts).size !== site.hosts.length) {
      ctx.addIssue({ code: "custom", path: ["hosts"], message: "host names must be unique within a site" });
    }
  });
export type SiteSpec = z.infer<typeof SiteSpec>;
export type SiteSpecInput = z.input<typeof SiteSpec>;

/** A site update: the full list of source hosts (hosts not listed are removed), or a recovery site's directory. */
export const SiteUpdate = z
  .strictObject({
    hosts: z.array(Name).optional(),
    path: fsPath("must name a directory").optional(),
  })
  .superRefine((site, ctx) => {
    if (site.hosts && new Set(site.hosts).size !== site.hosts.length) {
      ctx.addIssue({ code: "custom", path: ["hosts"], message: "host names must be unique within a site" });
    }
  });
export type SiteUpdate = z.infer<typeof SiteUpdate>;
