import { z } from "zod";
import { Command, Name } from "./common";
import { PointOption } from "./recovery";

export const PlanFailoverType = z.enum(["planned", "unplanned", "test"]);
export type PlanFailoverType = z.infer<typeof PlanFailoverType>;
export const Direction = z.enum(["primary-to-recovery", "recovery-to-primary"]);
export type Direction = z.infer<typeof Direction>;

/** A step before or after a group: a script, or a manual action the job waits for. */
export const PlanAction = z
  .strictObject({
    name: z.string().min(1).max(100),
    kind: z.enum(["script", "manual"]),
    command: Command.optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .default(300),
    /** Which side the script is for (both run on the engine's host here; scripts read LIFEBOAT_RUN_AT). */
    runAt: z.enum(["primary", "recovery"]).default("recovery"),
    instructions: z.string().max(2000).optional(),
    failoverTypes: z.array(PlanFailoverType).min(1).default(["planned", "unplanned", "test"]),
    directions: z.array(Direction).min(1).default(["primary-to-recovery", "recovery-to-primary"]),
  })
  .superRefine((a, ctx) => {
    if (a.kind === "script" && !a.command) ctx.addIssue({ code: "custom", path: ["command"], message: "a script action needs a command" });
    if (a.kind === "manual" && a.command) ctx.addIssue({ code: "custom", path: ["command"], message: "a manual action has instructions, not a command" });
  });
export type PlanAction = z.infer<typeof PlanAction>;

export const PlanGroup = z.strictObject({
  items: z.array(Name).min(1, "a group needs at least one machine"),
  before: z.array(PlanAction).default([]),
  after: z.array(PlanAction).default([]),
});
export type PlanGroup = z.infer<typeof PlanGroup>;

export const MAX_PLAN_MACHINES = 100;

export const PlanSpec = z.strictObject({ name: Name, groups: z.array(PlanGroup).min(1, "a plan needs at least one group") }).superRefine((plan, ctx) => {
  const seen = new Map<string, number>();
  plan.groups.forEach((g, gi) => {
    g.items.forEach((item, ii) => {
      if (seen.has(item)) ctx.addIssue({ code: "custom", path: ["groups", gi, "items", ii], message: `'${item}' is already in group ${seen.get(item)! + 1}` });
      else seen.set(item, gi);
    });
  });
  if (seen.size > MAX_PLAN_MACHINES)
    ctx.addIssue({ code: "custom", path: ["groups"], message: `a plan holds at most ${MAX_PLAN_MACHINES} machines (this one has ${seen.size})` });
});
export type PlanSpec = z.infer<typeof PlanSpec>;
export type PlanSpecInput = z.input<typeof PlanSpec>;

export const PlanRunRequest = z.strictObject({
  type: PlanFailoverType,
  /** Default: the way every machine can go; needed when some machines are already at the recovery site. */
  direction: Direction.optional(),
  point: PointOption.default("latest"),
  shutdownSource: z.boolean().default(false),
});
export type PlanRunRequest = z.infer<typeof PlanRunRequest>;
