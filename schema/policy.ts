import { z } from "zod";
import { Name, TimeOfDay } from "./common";

/** The copy frequencies Azure Site Recovery offers for Hyper-V. */
export const CopyFrequency = z.enum(["30s", "5m", "15m"]);
export type CopyFrequency = z.infer<typeof CopyFrequency>;

export const COPY_FREQUENCY_MS: Record<CopyFrequency, number> = { "30s": 30_000, "5m": 300_000, "15m": 900_000 };

export const ResyncWindow = z.strictObject({ start: TimeOfDay, end: TimeOfDay });
export type ResyncWindow = z.infer<typeof ResyncWindow>;

/** Outside business hours (08:00–18:00 local), as ASR schedules resync by default. */
export const DEFAULT_RESYNC_WINDOW: ResyncWindow = { start: "18:00", end: "08:00" };

export const PolicySpec = z
  .strictObject({
    name: Name,
    copyFrequency: CopyFrequency.default("5m"),
    retentionHours: z.number().int("must be a whole number of hours").min(0).max(72, "must be at most 72 hours").default(24),
    /** 0 turns app-consistent points off. */
    appConsistentHours: z.number().int("must be a whole number of hours").min(0).default(0),
    rpoThresholdMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(30),
    /** ISO time at which initial replication may start; absent means now. */
    initialReplicationStart: z.iso.datetime({ offset: true, message: "must be an ISO date-time such as 2026-12-01T22:00:00Z" }).optional(),
    resyncWindow: ResyncWindow.default(DEFAULT_RESYNC_WINDOW),
  })
  .superRefine((p, ctx) => {
    if (p.appConsistentHours > p.retentionHours) {
      ctx.addIssue({
        code: "custom",
        path: ["appConsistentHours"],
        message: `must not exceed the recovery point retention (${p.retentionHours} hours)`,
      });
    }
    if (p.name.endsWith("-failback")) {
      ctx.addIssue({ code: "custom", path: ["name"], message: "names ending in '-failback' are reserved for failback policies" });
    }
  });
export type PolicySpec = z.infer<typeof PolicySpec>;
export type PolicySpecInput = z.input<typeof PolicySpec>;

/** A policy update: every field but the name may change. */
export const PolicyUpdate = z.strictObject({
  copyFrequency: CopyFrequency.optional(),
  retentionHours: z.number().int().min(0).max(72, "must be at most 72 hours").optional(),
  appConsistentHours: z.number().int().min(0).optional(),
  rpoThresholdMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .optional(),
  initialReplicationStart: z.iso.datetime({ offset: true }).optional(),
  resyncWindow: ResyncWindow.optional(),
});
export type PolicyUpdate = z.infer<typeof PolicyUpdate>;
