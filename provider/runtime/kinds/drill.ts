import type { EngineClient } from "../../../client/engine-client";
import type { DrillReport } from "../../../engine/failover/drill";
import type { JobView } from "../../../engine/jobs/jobs";
import { DRILL_OUTPUTS, DrillSpec } from "../../../schema";
import { fields, type KindDefinition } from "../resource";
import { succeeded } from "../jobs";
import { unlessMissing, type Props } from "../values";

interface DrillMachine {
  item: string;
  /** The engine's id of this machine's drill (absent in states written before it was kept). */
  drill?: string;
  name: string;
  ip: string | null;
  started: boolean;
}

/** The report of each machine's own test failover job: the latest succeeded one. */
async function machineReport(engine: EngineClient, item: string): Promise<DrillReport> {
  const jobs = await engine.jobs({ target: item, limit: 20 });
  const job = jobs.find((j) => j.type === "TestFailover" && j.state === "Succeeded");
  if (!job) throw new Error(`no succeeded test failover of '${item}' found`);
  return job.result as DrillReport;
}

const machineOf = (report: DrillReport): DrillMachine => ({
  item: report.item,
  drill: report.drill,
  name: report.machine.name,
  ip: report.machine.ip,
  started: report.machine.state === "Running",
});

const planItems = async (engine: EngineClient, plan: string) => (await engine.getPlan(plan)).groups.flatMap((g) => g.items);

/** Cleanup of each machine's drill; one already cleaned up (or gone) is done. */
async function cleanUp(engine: EngineClient, items: string[], notes: string | undefined): Promise<void> {
  for (const item of items) {
    try {
      const job = await unlessMissing(engine.drillCleanup(item, notes));
      if (job) succeeded(job);
    } catch (error) {
      if (!/has no drill to clean up/.test((error as Error).message)) throw error;
    }
  }
}

async function run(engine: EngineClient, inputs: Props): Promise<{ job: JobView; reports: DrillReport[] }> {
  const point = inputs.point as string;
  if (inputs.item) {
    const job = succeeded(await engine.drill(inputs.item as string, point));
    return { job, reports: [job.result as DrillReport] };
  }
  const plan = inputs.plan as string;
  const items = await planItems(engine, plan);
  const job = await engine.runPlan(plan, { type: "test", point });
  try {
    succeeded(job);
    return { job, reports: await Promise.all(items.map((item) => machineReport(engine, item))) };
  } catch (error) {
    // A test run goes on past a failed machine: clean up the drills that did come up.
    await cleanUp(engine, items, "cleanup after a failed drill").catch(() => undefined);
    throw error;
  }
}

/**
 * A drill (test failover) of a machine or of a whole plan: create brings the copies up and reports
 * them; delete cleans them up, recording the notes. Every input forces a new drill.
 */
export const drill: KindDefinition = {
  schema: DrillSpec,
  inVault: true,
  identity: fields("item", "plan", "point", "notes"),
  observed: [...DRILL_OUTPUTS],
  runsJobs: true,
  async create(ctx, inputs) {
    const { job, reports } = await run(await ctx.engine(), inputs);
    // A failed check (a health check, a start command) fails the job, and with it the create.
    const report = {
      point: reports[0].point,
      machines: reports.map(machineOf),
      checksPassed: true,
      durationSeconds: Math.round((job.durationMs ?? 0) / 100) / 10,
      startedAt: job.startedAt,
    };
    const { point, ...rest } = report;
    return { id: job.id, observed: { recoveryPoint: point, ...rest, report } };
  },
  async update() {
    throw new Error("a drill changes only by replacement");
  },
  /** Gone once every machine's drill was cleaned up (by delete, or behind Pulumi's back with the CLI), or its machine unprotected. */
  async read(ctx, _id, outs) {
    const engine = await ctx.engine();
    const machines = (outs.machines as DrillMachine[] | undefined) ?? [];
    const open = await Promise.all(
      machines.map(async (m) => {
        const drill = (await unlessMissing(engine.item(m.item)))?.drill;
        return drill !== null && drill !== undefined && (m.drill === undefined || drill.id === m.drill);
      }),
    );
    return open.some(Boolean) ? {} : undefined;
  },
  async remove(ctx, _id, outs) {
    const items = ((outs.machines as DrillMachine[] | undefined) ?? []).map((m) => m.item);
    await cleanUp(await ctx.engine(), items, outs.notes as string | undefined);
  },
};
