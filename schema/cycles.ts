import { z } from "zod";
import { Duration } from "./verify";

/** How the daemon runs replication cycles: how many at once, and how long one may run before it is abandoned. */
export const CycleSettings = z.strictObject({
  maxCycles: z.number().int("must be a whole number of cycles").min(1, "must be at least 1").max(64, "must be at most 64").default(4),
  /** Long enough for a full scan of a large disk (cycles still read whole disks); a hung disk is abandoned after it. */
  cycleDeadline: Duration.default("30m"),
});
export type CycleSettings = z.infer<typeof CycleSettings>;
