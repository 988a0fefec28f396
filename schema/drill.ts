import { z } from "zod";
import { Name } from "./common";
import { PointOption } from "./recovery";

/** A Drill resource's inputs: a test failover of one machine or of a whole plan. */
export const DrillSpec = z
  .strictObject({
    item: Name.optional(),
    plan: Name.optional(),
    point: PointOption.default("latest"),
    /** Recorded with the cleanup. */
    notes: z.string().max(2000).optional(),
  })
  .superRefine((d, ctx) => {
    if (Boolean(d.item) === Boolean(d.plan)) ctx.addIssue({ code: "custom", path: d.item ? ["plan"] : ["item"], message: "give exactly one of item and plan" });
  });
export type DrillSpec = z.infer<typeof DrillSpec>;

/**
 * A Drill's outputs, one list for both sides of the provider (the resource registers them, its runtime
 * reports them). `point` is an input (the option), so the point used is `recoveryPoint`; `report` holds all as one object.
 */
export const DRILL_OUTPUTS = ["recoveryPoint", "machines", "checksPassed", "durationSeconds", "startedAt", "report"] as const;
