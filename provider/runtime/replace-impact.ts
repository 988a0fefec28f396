// What replacing a protected machine loses, for the preview: a replacement unprotects the old machine
// (its recovery points and its drill go with it) and protects a new one from scratch. A preview's check
// of the replacement (see `replacing` in index.ts) adds it as the `replaceImpact` input, computed from
// what the engine reports of the machine now.
import type { EngineClient } from "../../client/engine-client";
import type { DrillReport } from "../../engine/failover/drill";
import type { Replacement } from "./resource";
import type { Props } from "./values";

/** The input that carries it: shown in the preview's diff, never sent to the engine nor compared by diff. */
export const REPLACE_IMPACT = "replaceImpact";

export type ReplaceImpact = { known: true; summary: string; points: number; drill: string | null } | { known: false; reason: string };

/** The machine of the item's drill running now (its latest drill job is a test failover, not a cleanup), if any. */
async function runningDrill(engine: EngineClient, item: string): Promise<string | null> {
  const jobs = await engine.jobs({ target: item, limit: 1000 });
  const latest = jobs.find((j) => j.state === "Succeeded" && (j.type === "TestFailover" || j.type === "TestFailoverCleanup"));
  return latest?.type === "TestFailover" ? (latest.result as DrillReport).machine.name : null;
}

async function impact(engine: EngineClient | undefined, name: string, changed: string[], unreachable: string): Promise<ReplaceImpact | undefined> {
  if (!engine) return { known: false, reason: `${unreachable}: what replacing ${name} deletes is unknown` };
  try {
    const status = await engine.item(name);
    const drill = await runningDrill(engine, name);
    const lost = [`its ${status.points} recovery point${status.points === 1 ? "" : "s"}`, ...(drill ? [`drill '${drill}'`] : [])].join(" and ");
    const summary = `replacing ${name} (${changed.join(", ")} changed) deletes ${lost}; the new machine starts with a full initial replication`;
    return { known: true, summary, points: status.points, drill };
  } catch (error) {
    if ((error as { code?: string }).code === "NotFound") return undefined;
    return { known: false, reason: `the engine could not say what replacing ${name} deletes: ${(error as Error).message}` };
  }
}

/** The inputs a preview shows when the resource replaces a machine; none otherwise (a Struct holds no undefined). */
export async function replaceImpactInputs(engine: EngineClient | undefined, replaced: Replacement | undefined, unreachable: string): Promise<Props> {
  if (!replaced) return {};
  const report = await impact(engine, replaced.name, replaced.replaces, unreachable);
  return report ? { [REPLACE_IMPACT]: report } : {};
}
