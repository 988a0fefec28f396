import { z } from "zod";
import { Name } from "./common";
import { FailoverRequest } from "./recovery";
import { Direction, PlanFailoverType } from "./plan";
import { ActiveSite } from "./state";

/** A failover preview of one item: its request plus, optionally, the direction (default: away from where it runs). */
export const FailoverPreviewRequest = FailoverRequest.extend({ direction: Direction.optional() });
export type FailoverPreviewRequest = z.infer<typeof FailoverPreviewRequest>;

export const ImpactPoint = z.strictObject({
  id: z.string(),
  capturedAt: z.string(),
  appConsistent: z.boolean(),
  /** Captured in one window with the other machines of its replication group. */
  multiVm: z.boolean(),
});
export type ImpactPoint = z.infer<typeof ImpactPoint>;

export const ItemImpact = z.strictObject({
  item: Name,
  /** Where the machine runs now. */
  activeSite: ActiveSite,
  /** The recovery point it would come up from; null when the failover makes its own (final sync, latest capture) or skips it. */
  point: ImpactPoint.nullable(),
  /** How the point is chosen, in words: the option, "final sync at shutdown", or why nothing happens. */
  pointOption: z.string(),
  /** Seconds of writes the point would not hold: 0 when planned or captured at failover, null when unknown. */
  expectedDataLossSeconds: z.number().nullable(),
  /**
   * A failover that captures its own point ("latest", unplanned) loses nothing when the source answers;
   * when it does not, it falls back to this point and loses what came in since (null: unknown).
   */
  ifSourceDown: z.strictObject({ point: ImpactPoint.nullable(), dataLossSeconds: z.number().nullable() }).optional(),
  /** Why the real operation would refuse this machine (or the whole run). */
  refusal: z.string().optional(),
});
export type ItemImpact = z.infer<typeof ItemImpact>;

/** What a failover, failback or test run would do, resolved now, without doing it. */
export const FailoverImpact = z.strictObject({
  direction: Direction,
  type: PlanFailoverType,
  groups: z.array(z.strictObject({ order: z.number().int().min(1), items: z.array(ItemImpact) })),
});
export type FailoverImpact = z.infer<typeof FailoverImpact>;

/** POST /v1/items/check: what protecting this item would refuse now (references to other objects aside). */
export const ItemCheckResult = z.strictObject({ failures: z.array(z.strictObject({ property: z.string(), reason: z.string() })) });
export type ItemCheckResult = z.infer<typeof ItemCheckResult>;
