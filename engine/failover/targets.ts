import * as path from "node:path";
import type { Vault } from "../vault";
import { SIZES, type SizeName } from "../../schema";
import { EngineError } from "../errors";
import { recoveryOf, type ItemRow } from "../inventory/items";
import { siteRow } from "../inventory/sites";
import { networkRow } from "../inventory/networks";
import { hostAddresses, inSubnet } from "../inventory/addresses";

export type Purpose = "failover" | "drill";

export interface Nic {
  network: string;
  subnet: string;
  ip: string;
}

/** What a machine becomes at the recovery site. */
export interface TargetPlan {
  name: string;
  dir: string;
  size: { name: SizeName; cpus: number; memoryGiB: number; maxNics: number };
  networkId: number | null;
  nics: Nic[];
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
 * mapped from the source NIC's network). The first NIC takes the requested static IP (failing when it is
 * taken) or the lowest free address; a drill's isolated test network has its own address space.
 */
export async function planTarget(vault: Vault, item: ItemRow, purpose: Purpose): Promise<TargetPlan> {
  const recovery = recoveryOf(item);
  if (!recovery) throw new EngineError("NoRecoveryTarget", `'${item.name}' has no recovery settings (protect it with --recovery-site)`, false, "recovery");
  const name = recovery.targetName ?? item.name;
  const size = { name: recovery.targetSize, ...SIZES[recovery.targetSize] };
  const sourceNics = JSON.parse(item.nics as string) as Array<{ network: string }>;
  const networkName = recovery.network ?? (sourceNics[0] ? (await mappedNetwork(vault, sourceNics[0].network)) : undefined);
  const dir = (await machineDir(vault, item, purpose))!;
  if (!networkName) return { name, dir, size, networkId: null, nics: [] };

  const network = await networkRow(vault, networkName);
  const subnet = recovery.subnet ?? network.subnets[0];
  const taken = new Set((await vault.db.selectFrom("ip_allocations").select("ip").where("network_id", "=", network.id).where("purpose", "=", purpose).execute()).map((r) => r.ip));
  const count = Math.min(Math.max(1, sourceNics.length), size.maxNics);
  const nics: Nic[] = [];
  if (recovery.ip && purpose === "failover") {
    if (taken.has(recovery.ip)) throw new EngineError("IpAddressInUse", `${recovery.ip} is already in use in network '${network.name}'; '${item.name}' cannot take it`, false, "recovery.ip");
    if (!inSubnet(recovery.ip, subnet)) throw new EngineError("InvalidInput", `${recovery.ip} is not a host address of ${subnet}`, false, "recovery.ip");
    nics.push({ network: network.name, subnet, ip: recovery.ip });
    taken.add(recovery.ip);
  }
  for (const ip of hostAddresses(subnet)) {
    if (nics.length >= count) break;
    if (!taken.has(ip)) {
      nics.push({ network: network.name, subnet, ip });
      taken.add(ip);
    }
  }
  if (nics.length < count) throw new EngineError("SubnetFull", `subnet ${subnet} of '${network.name}' has no free address for '${item.name}'`, true, "recovery.subnet");
  return { name, dir, size, networkId: network.id, nics };
}

async function mappedNetwork(vault: Vault, source: string): Promise<string | undefined> {
  const row = await vault.db.selectFrom("network_mappings").innerJoin("networks", "networks.id", "network_mappings.target_id").select("networks.name").where("source", "=", source).executeTakeFirst();
  return row?.name;
}
