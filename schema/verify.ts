import { z } from "zod";
import { Name } from "./common";

/** Which recovery points a verify reads back: every point held, or each machine's latest. */
export const VerifyPoints = z.enum(["all", "latest"]);
export type VerifyPoints = z.infer<typeof VerifyPoints>;

/** Read back and check every block some recovery points reference (a scrub). */
export const VerifyRequest = z.strictObject({
  /** One protected item; absent: every item of the vault. */
  item: Name.optional(),
  points: VerifyPoints.default("all"),
  /** Read at most this many MiB per second (raw block bytes); absent: as fast as the store reads. */
  rateLimitMiBps: z.number().positive("must be a positive number of MiB per second").optional(),
});
export type VerifyRequest = z.infer<typeof VerifyRequest>;

/** A span of time such as 30m, 12h or 7d. */
export const Duration = z.string().regex(/^[1-9]\d*(s|m|h|d)$/, "must be a duration such as 30m, 12h or 7d");

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(text: string): number {
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
}

/** How the daemon scrubs the vault: every `verifyInterval` ("off": never on a schedule), at `verifyRateLimit` MiB/s (0: unthrottled). */
export const VerifySchedule = z.strictObject({
  verifyInterval: z.union([z.literal("off"), Duration]).default("7d"),
  verifyRateLimit: z.number().min(0, "must be 0 (unthrottled) or more MiB per second").default(64),
});
export type VerifySchedule = z.infer<typeof VerifySchedule>;
