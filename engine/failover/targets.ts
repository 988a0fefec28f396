import * as path from "node:path";
import type { Transaction } from "kysely";
import type { Tables } from "../catalog/tables";
import type { Vault } from "../vault";
import { SIZES, ValidationError, type SizeName } from "../../schema";
import { EngineError } from "../errors";
import { recoveryOf, type ItemRow } from "../inventory/items";
import { siteRow } from "../inventory/sites";
import { networkRow } from "../inventory/networks";
import { hostAddresses, inSubnet } from "../inventory/addresses";
import { insertAddresses, mappedNetworkName, takenAddresses } from "../catalog/networks";

export type Purpose = "failover" | "drill";

export interface Nic {
  network: string;
  subnet: string;
  ip: string;
}

/** The addresses a machine will take on its target network: chosen only when it is recorded (allocateAddresses). */
export interface Addressing {
  networkId: number;
  network: string;
  subnet: string;
  /** NICs = min(source NICs, the size's maximum). */
  count: number;
  /** The static IP the first NIC asks for (failovers only: a drill's test network has its own space). */
  staticIp: string | null;
}

/** What a machine becomes at the recovery site. */
export interface TargetPlan {
  item: string;
  name: string;
  dir: string;
  size: { name: SizeName; cpus: number; memoryGiB: number; maxNics: number };
  addressing: Addressing | null;
}

/** Where a machine of the item lives at its recovery site (drills get their own, suffixed "-test"); undefined without recovery settings. */
export async function machineDir(vault: Vault, item: ItemRow, purpose: Purpose): Promise<string | undefined> {
  const recovery = recoveryOf(item);
  if (!recovery) return undefined;
  const site = await siteRow(vault, recovery.site);
  const name = recovery.targetName ?? item.name;
  return path.join(site.path!, purpose === "drill" ? `${name}-test` : name);
}

/**
 * Plan a machine's recovery: its directory at the recovery site (drills get their own, suffixed "-test"),
 * its size, and its NICs = min(source NICs, the size's maximum), all on the target network (explicit, or
 * mapped from the source NIC's network). Which addresses they take is settled when the machine is
 * recorded (allocateAddresses), so machines planned side by side cannot pick the same one.
 */
export async function planTarget(vault: Vault, item: ItemRow, purpose: Purpose): Promise<TargetPlan> {
  const recovery = recoveryOf(item);
  if (!recovery) throw new EngineError("NoRecoveryTarget", `'${item.name}' has no recovery settings (protect it with --recovery-site)`, { field: "recovery" });
  const name = recovery.targetName ?? item.name;
  const size = { name: recovery.targetSize, ...SIZES[recovery.targetSize] };
  const sourceNics = JSON.parse(item.nics as string) as Array<{ network: string }>;
  const networkName = recovery.network ?? (sourceNics[0] ? await mappedNetwork(vault, sourceNics[0].network) : undefined);
  const dir = (await machineDir(vault, item, purpose))!;
  if (!networkName) return { item: item.name, name, dir, size, addressing: null };

  const network = await networkRow(vault, networkName);
  const subnet = recovery.subnet ?? network.subnets[0];
  const staticIp = recovery.ip && purpose === "failover" ? recovery.ip : null;
  if (staticIp && !inSubnet(staticIp, subnet)) throw ValidationError.refused("recovery.ip", `${staticIp} is not a host address of ${subnet}`);
  const count = Math.min(Math.max(1, sourceNics.length), size.maxNics);
  return { item: item.name, name, dir, size, addressing: { networkId: network.id, network: network.name, subnet, count, staticIp } };
}

/**
 * Take a machine's addresses and record them as its own, in the transaction that records the machine:
 * what is free is read and taken in one step (one connection, one transaction at a time, under the
 * vault lock), so machines coming up in parallel never see the same address free. The first NIC takes
 * the requested static IP (failing when it is taken) or the lowest free address.
 */
export async function allocateAddresses(trx: Transaction<Tables>, plan: TargetPlan, purpose: Purpose, machineId: number): Promise<Nic[]> {
  const a = plan.addressing;
  if (!a) return [];
  const taken = new Set(await takenAddresses(trx, a.networkId, purpose));
  const nics: Nic[] = [];
  if (a.staticIp) {
    if (taken.has(a.staticIp))
      throw new EngineError("IpAddressInUse", `${a.staticIp} is already in use in network '${a.network}'; '${plan.item}' cannot take it`, {
        field: "recovery.ip",
      });
    nics.push({ network: a.network, subnet: a.subnet, ip: a.staticIp });
    taken.add(a.staticIp);
  }
  for (const ip of hostAddresses(a.subnet)) {
    if (nics.length >= a.count) break;
    if (!taken.has(ip)) {
      nics.push({ network: a.network, subnet: a.subnet, ip });
      taken.add(ip);
    }
  }
  if (nics.length < a.count)
    throw new EngineError("SubnetFull", `subnet ${a.subnet} of '${a.network}' has no free address for '${plan.item}'`, { field: "recovery.subnet" });
  await insertAddresses(
    trx,
    nics.map((n) => ({ network_id: a.networkId, purpose, ip: n.ip, machine_id: machineId })),
  );
  return nics;
}

async function mappedNetwork(vault: Vault, source: string): Promise<string | undefined> {
  return mappedNetworkName(vault.db, source);
}
