import { z } from "zod";
import { fsPath, Name } from "./common";
import { PointOption, PointSelector } from "./recovery";

/*
 * Bodies of the API's operations that have no resource spec of their own. Every route that takes a body
 * names one of the schemas in schema/; the server validates the body with it before anything else runs.
 */

/** Operations that take no options: no body, or an empty object. */
export const NoBody = z.strictObject({});
export type NoBody = z.infer<typeof NoBody>;

/** POST /v1/sites/:site/hosts */
export const HostSpec = z.strictObject({ name: Name });
export type HostSpec = z.infer<typeof HostSpec>;

/** POST /v1/items/:item/sync: one replication cycle now. */
export const SyncRequest = z.strictObject({
  /** Run the quiesce hooks and make an app-consistent point. */
  appConsistent: z.boolean().default(false),
});
export type SyncRequest = z.infer<typeof SyncRequest>;

/** POST /v1/items/:item/materialize: write the disks at a point into a directory, one file per disk. */
export const MaterializeRequest = z.strictObject({
  point: PointSelector.default("latest"),
  outDir: fsPath("must name the directory to write the disks into"),
});
export type MaterializeRequest = z.infer<typeof MaterializeRequest>;

/** POST /v1/items/:item/drill: a test failover. */
export const DrillRequest = z.strictObject({ point: PointOption.default("latest") });
export type DrillRequest = z.infer<typeof DrillRequest>;

/** POST /v1/items/:item/drill/cleanup */
export const DrillCleanupRequest = z.strictObject({
  /** What the drill showed, kept with the drill's record. */
  notes: z.string().max(4096, "must be at most 4096 characters").optional(),
});
export type DrillCleanupRequest = z.infer<typeof DrillCleanupRequest>;

/** POST /v1/items/:item/change-point: another recovery point before the failover is committed. */
export const ChangePointRequest = z.strictObject({ point: PointOption });
export type ChangePointRequest = z.infer<typeof ChangePointRequest>;

/** POST /v1/tokens: a bearer token, shown once. */
export const TokenRequest = z.strictObject({
  name: Name,
  role: z.enum(["admin", "agent"]).default("admin"),
  /** Absent: the token does not expire. */
  lifetimeMs: z.number().int("must be a whole number of milliseconds").min(1, "must be positive").optional(),
});
export type TokenRequest = z.infer<typeof TokenRequest>;

/**
 * POST /v1/items/check: a protection spec (ItemSpec) to check. Only its outer shape is required here:
 * what fails ItemSpec is the answer of the check, not a refusal of the request.
 */
export const ItemCheckRequest = z
  .record(z.string(), z.unknown(), { error: "must be an object: the ItemSpec to check" })
  .meta({ description: "an ItemSpec to check; what fails its schema is reported in the answer" });
export type ItemCheckRequest = z.infer<typeof ItemCheckRequest>;
