import type { CatalogDb } from "./catalog";

/** What the catalog counts for the daemon's /metrics: per-item bytes and last cycle, jobs by type and state. */
export interface CatalogMetrics {
  /** Bytes read and stored by the cycles of each item's current points. */
  itemBytes: Array<{ item: string; read: number; stored: number }>;
  /** Wall time of the cycle that made each item's latest point. */
  lastCycleMs: Array<{ item: string; ms: number }>;
  jobs: Array<{ type: string; state: string; count: number }>;
  /** Finished jobs: how many, and their summed duration. */
  finishedJobs: Array<{ type: string; state: string; count: number; ms: number }>;
}

export async function catalogMetrics(db: CatalogDb): Promise<CatalogMetrics> {
  const totals = await db
    .selectFrom("points")
    .innerJoin("items", "items.id", "points.item_id")
    .select((eb) => ["items.name", eb.fn.sum<number>("bytes_read").as("read"), eb.fn.sum<number>("bytes_stored").as("stored")])
    .groupBy("items.name")
    .execute();
  const last = await db
    .selectFrom("points")
    .innerJoin("items", "items.id", "points.item_id")
    .select(["items.name", "points.duration_ms", "points.captured_at"])
    .orderBy("points.captured_at", "desc")
    .execute();
  const lastByItem = new Map<string, number>();
  for (const row of last) if (!lastByItem.has(row.name)) lastByItem.set(row.name, row.duration_ms);
  const jobs = await db
    .selectFrom("jobs")
    .select((eb) => ["type", "state", eb.fn.countAll<number>().as("n")])
    .groupBy(["type", "state"])
    .execute();
  const durations = await db
    .selectFrom("jobs")
    .select((eb) => ["type", "state", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>(eb.parens(eb("ended_at", "-", eb.ref("started_at")))).as("ms")])
    .where("ended_at", "is not", null)
    .groupBy(["type", "state"])
    .execute();
  return {
    itemBytes: totals.map((t) => ({ item: t.name, read: Number(t.read), stored: Number(t.stored) })),
    lastCycleMs: [...lastByItem].map(([item, ms]) => ({ item, ms })),
    jobs: jobs.map((j) => ({ type: j.type, state: j.state, count: Number(j.n) })),
    finishedJobs: durations.map((d) => ({ type: d.type, state: d.state, count: Number(d.n), ms: Number(d.ms) })),
  };
}

/** Whether the catalog answers a query (the daemon's readiness check); throws when it does not. */
export async function probeCatalog(db: CatalogDb): Promise<void> {
  await db.selectFrom("meta").select("key").limit(1).execute();
}
