import type { Vault } from "../vault";
import { ConflictError } from "../errors";
import { Job, newId, type JobView } from "../jobs/jobs";
import { itemRowById, type ItemRow } from "../inventory/items";
import type { PointOption } from "../../schema";
import { resolvePoints } from "./point-options";
import { planTarget } from "./targets";
import { createMachine, machineDetails, machineOf, removeHalfMadeMachine, removeMachine, startMachine } from "./machines";
import { insertDrill, markDrillCleaned, openDrill } from "../catalog/drills";
import { updateItemColumns } from "../catalog/items";

export interface DrillReport {
  drill: string;
  item: string;
  point: { id: string; capturedAt: string; kind: string };
  machine: { name: string; dir: string; state: string; ip: string | null; network: string | null };
  /** The drill's network is isolated: its addresses are apart from production failover addresses. */
  isolatedNetwork: boolean;
  durations: { prepareMs: number; startMs: number };
}

/**
 * Test failover: bring a copy of the machine up at the recovery site, from a chosen point, on the target
 * network's isolated test address space, without pausing replication. One drill per machine at a time.
 */
export async function testFailover(vault: Vault, item: ItemRow, option: PointOption): Promise<JobView> {
  await assertNoOpenDrill(vault, item);
  const job = await Job.start(vault.db, vault.clock, "TestFailover", item.name, ["Prerequisites check", "Create test machine", "Start test machine"]);
  await job
    .run(async () => {
      const { point, plan } = await job.step("Prerequisites check", async () => {
        // A drill of "latest" uses the latest processed point: the drill must not disturb the source.
        const points = await resolvePoints(vault, [item], option === "latest" ? "latest-processed" : option);
        return { point: points.get(item.id)!, plan: await planTarget(vault, item, "drill") };
      });
      const t0 = Date.now();
      const machine = await job.step("Create test machine", (task) => createMachine(vault, item, point.id, plan, "drill", task));
      const t1 = Date.now();
      await job
        .step("Start test machine", () => startMachine(vault, item, machine))
        .catch(async (error) => {
          await removeMachine(vault, item, machine);
          throw error;
        });
      const d = machineDetails((await machineOf(vault, item, "drill"))!);
      const report: DrillReport = {
        drill: newId("drill", vault.clock.now()),
        item: item.name,
        point: d.point,
        machine: { name: d.name, dir: d.dir, state: d.state, ip: d.nics[0]?.ip ?? null, network: d.nics[0]?.network ?? null },
        isolatedNetwork: true,
        durations: { prepareMs: t1 - t0, startMs: Date.now() - t1 },
      };
      await insertDrill(vault.db, {
        id: report.drill,
        item_id: item.id,
        machine_id: machine.id,
        point_id: point.id,
        started_at: vault.clock.now(),
        cleaned_at: null,
        notes: null,
        report: JSON.stringify(report),
      });
      return report;
    })
    .catch(() => undefined);
  return await job.view();
}

/** One drill per machine at a time. */
export async function assertNoOpenDrill(vault: Vault, item: ItemRow): Promise<void> {
  const open = await openDrill(vault.db, item.id);
  if (open) throw new ConflictError(`'${item.name}' already has a drill (${open.id}); clean it up first with 'lifeboat drill cleanup ${item.name}'`, "name");
}

/**
 * After the process running a drill died mid-way: a drill it recorded is complete (cleanup removes it);
 * otherwise its half-made test machine goes, so a new drill can run.
 */
export async function afterInterruptedDrill(vault: Vault, item: ItemRow): Promise<string | undefined> {
  const open = await openDrill(vault.db, item.id);
  if (open) return `its drill ${open.id} was recorded: clean it up with 'lifeboat drill cleanup ${item.name}'`;
  return removeHalfMadeMachine(vault, item, "drill");
}

/** Cleanup: remove everything the drill created and record notes; only now does the drill count as done. */
export async function cleanupTestFailover(vault: Vault, item: ItemRow, notes: string | undefined): Promise<JobView> {
  const drill = await openDrill(vault.db, item.id);
  if (!drill) throw new ConflictError(`'${item.name}' has no drill to clean up`, "name");
  const job = await Job.start(vault.db, vault.clock, "TestFailoverCleanup", item.name, ["Remove test machine", "Record drill"]);
  await job
    .run(async () => {
      await job.step("Remove test machine", async () => {
        const machine = await machineOf(vault, item, "drill");
        if (machine) await removeMachine(vault, item, machine);
      });
      return job.step("Record drill", async () => {
        const now = vault.clock.now();
        await markDrillCleaned(vault.db, drill.id, now, notes ?? null);
        await updateItemColumns(vault.db, item.id, { last_drill_at: now });
        return { drill: drill.id, notes: notes ?? null, report: JSON.parse(drill.report) as DrillReport, item: (await itemRowById(vault, item.id)).name };
      });
    })
    .catch(() => undefined);
  return await job.view();
}
