import type { ServedEngine } from "./served-engine";

/** Prometheus text exposition of replication health, RPO, bytes, store use and jobs. */
export async function renderMetrics(engine: ServedEngine): Promise<string> {
  const [status, counted] = await Promise.all([engine.status(), engine.catalogMetrics()]);
  const lines: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
        .join(",");
      lines.push(`${name}${text ? `{${text}}` : ""} ${value}`);
    }
  };
  const items = status.items;
  metric(
    "lifeboat_item_rpo_seconds",
    "gauge",
    "Seconds since the capture of the item's latest recovery point.",
    items.filter((i) => i.rpoSeconds !== null).map((i) => [{ item: i.name }, i.rpoSeconds!]),
  );
  metric(
    "lifeboat_item_rpo_threshold_ratio",
    "gauge",
    "RPO divided by the policy's RPO threshold; above 1 is a warning.",
    items.filter((i) => i.rpoSeconds !== null).map((i) => [{ item: i.name }, Number((i.rpoSeconds! / i.rpoThresholdSeconds).toFixed(4))]),
  );
  metric(
    "lifeboat_item_health",
    "gauge",
    "1 for the item's current replication health.",
    items.flatMap((i) =>
      (["Normal", "Warning", "Critical"] as const).map((h): [Record<string, string>, number] => [{ item: i.name, health: h }, i.health === h ? 1 : 0]),
    ),
  );
  metric(
    "lifeboat_item_recovery_points",
    "gauge",
    "Recovery points the item has.",
    items.map((i) => [{ item: i.name }, i.points]),
  );
  metric(
    "lifeboat_item_bytes_read_total",
    "counter",
    "Bytes read from the item's disks by the cycles of its current points.",
    counted.itemBytes.map((t) => [{ item: t.item }, t.read]),
  );
  metric(
    "lifeboat_item_bytes_sent_total",
    "counter",
    "Bytes the item's cycles shipped into the store (after dedupe and compression).",
    counted.itemBytes.map((t) => [{ item: t.item }, t.stored]),
  );
  metric(
    "lifeboat_item_last_cycle_seconds",
    "gauge",
    "Wall time of the cycle that made the item's latest point.",
    counted.lastCycleMs.map(({ item, ms }) => [{ item }, ms / 1000]),
  );
  metric("lifeboat_store_blocks", "gauge", "Blocks in the vault's store.", [[{}, status.vault.store.blocks]]);
  metric("lifeboat_store_bytes", "gauge", "Bytes of blocks in the store after compression.", [[{}, status.vault.store.storedBytes]]);
  metric(
    "lifeboat_store_unreferenced_bytes",
    "gauge",
    "Bytes in the store no block refers to (orphan packs, temporary files): garbage collection reclaims them.",
    [[{}, status.vault.store.unreferencedBytes]],
  );
  metric(
    "lifeboat_jobs",
    "gauge",
    "Jobs by type and state.",
    counted.jobs.map((j) => [{ type: j.type, state: j.state }, j.count]),
  );
  metric(
    "lifeboat_job_duration_seconds_sum",
    "counter",
    "Total duration of finished jobs by type and state.",
    counted.finishedJobs.map((d) => [{ type: d.type, state: d.state }, d.ms / 1000]),
  );
  metric(
    "lifeboat_job_duration_seconds_count",
    "counter",
    "Finished jobs by type and state.",
    counted.finishedJobs.map((d) => [{ type: d.type, state: d.state }, d.count]),
  );
  const key = status.vault.registrationKey;
  metric("lifeboat_registration_key_expires_timestamp_seconds", "gauge", "When the vault's registration key expires.", [
    [{}, Math.round(Date.parse(key.expiresAt) / 1000)],
  ]);
  return lines.join("\n") + "\n";
}
