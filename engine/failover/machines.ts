import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault } from "../vault";
import { deleteMachine, findMachine, insertMachine, updateMachine, type MachineRow } from "../catalog/machines";
import { ComputeSpec, type SizeName } from "../../schema";
import { recoveryOf, type ItemRow } from "../inventory/items";
import type { Task } from "../jobs/jobs";
import { exists } from "../io/exists";
import { materialize } from "../replication/materialize";
import { forgetSpawned, spawnedPid, startCompute, stopCompute, type MachineState } from "./compute";
import { allocateAddresses, machineDir, type Nic, type Purpose, type TargetPlan } from "./targets";

export type { MachineRow };

/** machine.json in the machine's directory: what was brought up, from which point, on which network. */
export interface MachineDescription {
  item: string;
  name: string;
  purpose: Purpose;
  size: SizeName;
  cpus: number;
  memoryGiB: number;
  /** Generation 2 machines run as generation 1 at the recovery site (as ASR converts them); failback restores 2. */
  generation: number;
  sourceGeneration: number;
  nics: Nic[];
  disks: Array<{ name: string; path: string; size: number }>;
  point: { id: string; capturedAt: string; kind: string };
  createdAt: string;
}

/**
 * Record the machine with its addresses first (one transaction: see allocateAddresses), then write its
 * disks at the point and its description. Not started. A machine that cannot be made leaves nothing:
 * its directory, row and addresses go again before the error is passed on.
 */
export async function createMachine(vault: Vault, item: ItemRow, pointId: string, plan: TargetPlan, purpose: Purpose, task?: Task): Promise<MachineRow> {
  await fs.rm(plan.dir, { recursive: true, force: true }); // leftovers of an interrupted attempt
  const reserved = await vault.db.transaction().execute(async (trx) => {
    const row = await insertMachine(trx, {
      item_id: item.id,
      purpose,
      dir: plan.dir,
      point_id: pointId,
      description: "{}",
      pid: null,
      state: "Preparing",
      created_at: vault.clock.now(),
    });
    const nics = await allocateAddresses(trx, plan, purpose, row.id);
    const description = JSON.stringify({ item: item.name, name: plan.name, purpose, nics, disks: [] });
    await updateMachine(trx, row.id, { description });
    return { row: { ...row, description }, nics };
  });
  try {
    const { point, disks } = await materialize(vault, item, pointId, plan.dir, task);
    const description: MachineDescription = {
      item: item.name,
      name: plan.name,
      purpose,
      size: plan.size.name,
      cpus: plan.size.cpus,
      memoryGiB: plan.size.memoryGiB,
      generation: 1,
      sourceGeneration: item.generation,
      nics: reserved.nics,
      disks,
      point: { id: point.id, capturedAt: point.capturedAt, kind: point.kind },
      createdAt: new Date(vault.clock.now()).toISOString(),
    };
    await fs.writeFile(path.join(plan.dir, "machine.json"), JSON.stringify(description, null, 2) + "\n");
    const made = { point_id: point.id, description: JSON.stringify(description), state: "Materialized" };
    await updateMachine(vault.db, reserved.row.id, made);
    return { ...reserved.row, ...made };
  } catch (error) {
    await fs.rm(plan.dir, { recursive: true, force: true });
    await forgetMachine(vault, reserved.row);
    throw error;
  }
}

const computeOf = (item: ItemRow) => ComputeSpec.parse(recoveryOf(item)?.compute ?? {});

function machineEnv(machine: MachineRow): Record<string, string> {
  const d = JSON.parse(machine.description) as MachineDescription;
  const env: Record<string, string> = { LIFEBOAT_MACHINE: d.name, LIFEBOAT_DIR: machine.dir, LIFEBOAT_IP: d.nics[0]?.ip ?? "", LIFEBOAT_PURPOSE: d.purpose };
  for (const disk of d.disks) env[`LIFEBOAT_DISK_${disk.name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`] = disk.path;
  return env;
}

export async function startMachine(vault: Vault, item: ItemRow, machine: MachineRow): Promise<MachineState> {
  const recordPid = (pid: number) => updateMachine(vault.db, machine.id, { pid });
  const { pid, state } = await startCompute(computeOf(item), machine.dir, machineEnv(machine), recordPid);
  await updateMachine(vault.db, machine.id, { pid, state });
  return state;
}

/** Stop a machine, remove its directory and give its addresses back. */
export async function removeMachine(vault: Vault, item: ItemRow, machine: MachineRow): Promise<void> {
  await stopCompute(computeOf(item), machine.pid ?? spawnedPid(machine.dir), machineEnv(machine));
  await fs.rm(machine.dir, { recursive: true, force: true });
  await forgetMachine(vault, machine);
}

/**
 * A machine a process that died was making: it is stopped (its pid is recorded as soon as it is spawned),
 * its directory removed and its addresses freed; disks written before its row existed go too.
 */
export async function removeHalfMadeMachine(vault: Vault, item: ItemRow, purpose: Purpose): Promise<string | undefined> {
  const what = purpose === "drill" ? "test machine" : "recovery machine";
  const machine = await machineOf(vault, item, purpose);
  if (machine) {
    await removeMachine(vault, item, machine);
    return `its half-made ${what} was stopped and removed`;
  }
  const dir = await machineDir(vault, item, purpose);
  if (!dir || !(await exists(dir))) return undefined;
  await fs.rm(dir, { recursive: true, force: true });
  return `the partly written disks of its ${what} were removed`;
}

/** Drop a machine from the catalog and give its addresses back; the machine itself is left as it is. */
export async function forgetMachine(vault: Vault, machine: MachineRow): Promise<void> {
  await vault.db.transaction().execute((trx) => deleteMachine(trx, machine.id));
}

/** Stop a machine but keep its disks (failback stops the recovery machine before the final switch). */
export async function stopMachine(vault: Vault, item: ItemRow, machine: MachineRow): Promise<void> {
  await stopCompute(computeOf(item), machine.pid, machineEnv(machine));
  forgetSpawned(machine.dir);
  await updateMachine(vault.db, machine.id, { pid: null, state: "Stopped" });
}

export function machineOf(vault: Vault, item: ItemRow, purpose: Purpose): Promise<MachineRow | undefined> {
  return findMachine(vault.db, item.id, purpose);
}

export function machineDetails(machine: MachineRow): MachineDescription & { dir: string; state: string; pid: number | null } {
  return { ...(JSON.parse(machine.description) as MachineDescription), dir: machine.dir, state: machine.state, pid: machine.pid };
}
