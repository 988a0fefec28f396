import type { FailoverImpact } from "../schema";
import { duration, table } from "./format";

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
      i.expectedDataLossSeconds === null ? "unknown" : duration(i.expectedDataLossSeconds),
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
