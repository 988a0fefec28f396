import type { Engine } from "../engine";

/** Prometheus text exposition of replication health, RPO, bytes, store use and jobs. */
export async function renderMetrics(engine: Engine): Promise<string> {
  const status = await engine.status();
  const db = engine.vault.db;
  const lines: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",");
      lines.push(`${name}${text ? `{${text}}` : ""} ${value}`);
    }
  };
  const items = status.items;
  metric("lifeboat_item_rpo_seconds", "gauge", "Seconds since the capture of the item's latest recovery point.", items.filter((i) => i.rpoSeconds !== null).map((i) => [{ item: i.name }, i.rpoSeconds!]));
  metric("lifeboat_item_rpo_threshold_ratio", "gauge", "RPO divided by the policy's RPO threshold; above 1 is a warning.", items.filter((i) => i.rpoSeconds !== null).map((i) => [{ item: i.name }, Number((i.rpoSeconds! / i.rpoThresholdSeconds).toFixed(4))]));
  metric("lifeboat_item_health", "gauge", "1 for the item's current replication health.", items.flatMap((i) => (["Normal", "Warning", "Critical"] as const).map((h): [Record<string, string>, number] => [{ item: i.name, health: h }, i.health === h ? 1 : 0])));
  metric("lifeboat_item_recovery_points", "gauge", "Recovery points the item has.", items.map((i) => [{ item: i.name }, i.points]));
  const totals = await db.selectFrom("points").innerJoin("items", "items.id", "points.item_id").select((eb) => ["items.name", eb.fn.sum<number>("bytes_read").as("read"), eb.fn.sum<number>("bytes_stored").as("stored")]).groupBy("items.name").execute();
  metric("lifeboat_item_bytes_read_total", "counter", "Bytes read from the item's disks by the cycles of its current points.", totals.map((t) => [{ item: t.name }, Number(t.read)]));
  metric("lifeboat_item_bytes_sent_total", "counter", "Bytes the item's cycles shipped into the store (after dedupe and compression).", totals.map((t) => [{ item: t.name }, Number(t.stored)]));
  const last = await db.selectFrom("points").innerJoin("items", "items.id", "points.item_id").select(["items.name", "points.duration_ms", "points.captured_at"]).orderBy("points.captured_at", "desc").execute();
  const lastByItem = new Map<string, number>();
  for (const row of last) if (!lastByItem.has(row.name)) lastByItem.set(row.name, row.duration_ms);
  metric("lifeboat_item_last_cycle_seconds", "gauge", "Wall time of the cycle that made the item's latest point.", [...lastByItem].map(([item, ms]) => [{ item }, ms / 1000]));
  metric("lifeboat_store_blocks", "gauge", "Blocks in the vault's store.", [[{}, status.vault.store.blocks]]);
  metric("lifeboat_store_bytes", "gauge", "Bytes of blocks in the store after compression.", [[{}, status.vault.store.storedBytes]]);
  metric("lifeboat_store_unreferenced_bytes", "gauge", "Bytes in the store no block refers to (orphan packs, temporary files): garbage collection reclaims them.", [[{}, status.vault.store.unreferencedBytes]]);
  const jobs = await db.selectFrom("jobs").select((eb) => ["type", "state", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>(eb.ref("ended_at")).as("ended"), eb.fn.sum<number>(eb.ref("started_at")).as("started")]).groupBy(["type", "state"]).execute();
  metric("lifeboat_jobs", "gauge", "Jobs by type and state.", jobs.map((j) => [{ type: j.type, state: j.state }, Number(j.n)]));
  const durations = await db.selectFrom("jobs").select((eb) => ["type", "state", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>(eb.parens(eb("ended_at", "-", eb.ref("started_at")))).as("ms")]).where("ended_at", "is not", null).groupBy(["type", "state"]).execute();
  metric("lifeboat_job_duration_seconds_sum", "counter", "Total duration of finished jobs by type and state.", durations.map((d) => [{ type: d.type, state: d.state }, Number(d.ms) / 1000]));
  metric("lifeboat_job_duration_seconds_count", "counter", "Finished jobs by type and state.", durations.map((d) => [{ type: d.type, state: d.state }, Number(d.n)]));
  const key = status.vault.registrationKey;
  metric("lifeboat_registration_key_expires_timestamp_seconds", "gauge", "When the vault's registration key expires.", [[{}, Math.round(Date.parse(key.expiresAt) / 1000)]]);
  return lines.join("\n") + "\n";
}
