import type { FailoverImpact, ItemImpact } from "../schema";
import { duration, table } from "./format";

/** Expected data loss; for a failover that captures its own point, also what it loses when the source does not answer. */
function lossCell(i: ItemImpact): string {
  const expected = i.expectedDataLossSeconds === null ? "unknown" : duration(i.expectedDataLossSeconds);
  return i.ifSourceDown
    ? `${expected}, up to ${i.ifSourceDown.dataLossSeconds === null ? "unknown" : duration(i.ifSourceDown.dataLossSeconds)} if the source is down`
    : expected;
}

/** A failover preview as a table: one row per machine in group order, with the point, expected loss and any refusal. */
export function impactText(impact: FailoverImpact): string {
  const rows = impact.groups.flatMap((g) =>
    g.items.map((i) => [
      g.order,
      i.item,
      i.activeSite,
      i.point?.id ?? null,
      i.point?.capturedAt ?? null,
      i.point ? `${i.point.appConsistent ? "app" : "crash"}${i.point.multiVm ? ", multi-VM" : ""}` : null,
      lossCell(i),
      i.refusal ? `REFUSED: ${i.refusal}` : i.pointOption,
    ]),
  );
  const refused = impact.groups.reduce((n, g) => n + g.items.filter((i) => i.refusal).length, 0);
  return [
    `preview of ${impact.type === "unplanned" ? "an" : "a"} ${impact.type} ${impact.type !== "test" && impact.direction === "recovery-to-primary" ? "failback" : "failover"} (${impact.direction}); nothing was changed`,
    table([["GROUP", "MACHINE", "ACTIVE", "POINT", "CAPTURED", "KIND", "DATA-LOSS", "POINT-OPTION / REFUSAL"], ...rows]),
    ...(refused ? [`${refused} machine(s) would be refused`] : []),
  ].join("\n");
}
