import { z } from "zod";
import { Command, fsPath, Name } from "./common";

/** Target machine sizes at a recovery site (ASR offers Azure VM sizes; these mirror a few). */
export const SIZES = {
  Standard_A1_v2: { cpus: 1, memoryGiB: 2, maxNics: 2 },
  Standard_A2_v2: { cpus: 2, memoryGiB: 4, maxNics: 2 },
  Standard_A4_v2: { cpus: 4, memoryGiB: 8, maxNics: 4 },
  Standard_D2s_v3: { cpus: 2, memoryGiB: 8, maxNics: 2 },
  Standard_D4s_v3: { cpus: 4, memoryGiB: 16, maxNics: 2 },
  Standard_D8s_v3: { cpus: 8, memoryGiB: 32, maxNics: 4 },
  Standard_B1s: { cpus: 1, memoryGiB: 1, maxNics: 1 },
} as const;
export type SizeName = keyof typeof SIZES;
export const SizeName = z.enum(Object.keys(SIZES) as [SizeName, ...SizeName[]]);

const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
export const Ipv4 = z.string().regex(new RegExp(`^${octet}(\\.${octet}){3}$`), "must be an IPv4 address such as 10.0.1.4");
export const Cidr = z
  .string()
  .regex(new RegExp(`^${octet}(\\.${octet}){3}/(\\d|[12]\\d|3[0-2])$`), "must be an IPv4 subnet in CIDR form such as 10.0.1.0/24")
  .refine((c) => Number(c.split("/")[1]) <= 30, "must leave room for hosts (a /30 or larger)");

export const NetworkSpec = z.strictObject({
  name: Name,
  /** The recovery site the network belongs to. */
  site: Name,
  subnets: z.array(Cidr).min(1, "a network needs at least one subnet"),
});
export type NetworkSpec = z.infer<typeof NetworkSpec>;

/** Source network (by name, as the primary site knows it) → recovery network: supplies target defaults. */
export const NetworkMappingSpec = z.strictObject({ source: Name, target: Name });
export type NetworkMappingSpec = z.infer<typeof NetworkMappingSpec>;

export const NicSpec = z.strictObject({ network: Name, ip: Ipv4.optional() });

/** How a failed-over machine is started: `none` materializes only; `process` runs a start command. */
export const ComputeSpec = z
  .strictObject({
    driver: z.enum(["none", "process"]).default("none"),
    /** Runs detached with LIFEBOAT_MACHINE, LIFEBOAT_DIR, LIFEBOAT_IP and LIFEBOAT_DISK_<NAME> in its environment. */
    start: Command.optional(),
    /** Stops the machine; without it the start command's process group is killed. */
    stop: Command.optional(),
    /** A command that exits 0, or an http(s) URL that answers 2xx, once the machine is up. */
    healthCheck: z.string().min(1).optional(),
    healthTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  })
  .superRefine((c, ctx) => {
    if (c.driver === "process" && !c.start) ctx.addIssue({ code: "custom", path: ["start"], message: "the process driver needs a start command" });
  });
export type ComputeSpec = z.infer<typeof ComputeSpec>;

/** Where and as what a protected machine comes up at failover. */
export const RecoverySettings = z.strictObject({
  site: Name,
  targetName: Name.optional(),
  targetSize: SizeName.default("Standard_A2_v2"),
  network: Name.optional(),
  subnet: Cidr.optional(),
  ip: Ipv4.optional(),
  compute: ComputeSpec.default({ driver: "none", healthTimeoutSeconds: 60 }),
});
export type RecoverySettings = z.infer<typeof RecoverySettings>;

const POINT_ID = /^pt-[a-z0-9]+-[0-9a-f]+$/;
const POINT_OPTION = "must be a recovery point option (latest, latest-processed, ...) or a point id";

/** Recovery point options of a failover (ASR's), or a point id. */
export const PointOption = z.union(
  [
    z.enum(["latest", "latest-processed", "latest-app-consistent", "latest-multivm-processed", "latest-multivm-app-consistent"]),
    z.string().regex(POINT_ID, POINT_OPTION),
  ],
  { error: POINT_OPTION },
);
export type PointOption = z.infer<typeof PointOption>;

/** The point a disk image is written from: the latest, or one by id. */
export const PointSelector = z.union([z.literal("latest"), z.string().regex(POINT_ID, "must be 'latest' or a recovery point id")], {
  error: "must be 'latest' or a recovery point id",
});

export const FailoverRequest = z.strictObject({
  type: z.enum(["planned", "unplanned"]),
  point: PointOption.default("latest"),
  shutdownSource: z.boolean().default(false),
});
export type FailoverRequest = z.infer<typeof FailoverRequest>;

/** Failback: a planned failover from the recovery site back to the primary. */
export const FailbackRequest = z
  .strictObject({
    /** original: the machine's own disks, by delta unless fullDownload; alternate: new disks in alternateDir. */
    location: z.enum(["original", "alternate"]).default("original"),
    alternateDir: fsPath().optional(),
    fullDownload: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.location === "alternate" && !r.alternateDir)
      ctx.addIssue({ code: "custom", path: ["alternateDir"], message: "an alternate-location failback needs the directory for the new disks" });
    if (r.location === "original" && r.alternateDir)
      ctx.addIssue({ code: "custom", path: ["alternateDir"], message: "only an alternate-location failback takes a directory" });
  });
export type FailbackRequest = z.infer<typeof FailbackRequest>;
