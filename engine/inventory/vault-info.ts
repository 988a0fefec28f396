import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault, VaultEncryption } from "../vault";

export interface VaultInfo {
  dir: string;
  id: string;
  createdAt: string;
  registrationKey: Awaited<ReturnType<Vault["registrationKeyState"]>>;
  /** How blocks and manifests are kept at rest, and where the key-encryption key came from. */
  encryption: VaultEncryption;
}

/** The vault's identity and its registration key's state (never the key: it is shown once, when issued). */
export async function vaultInfo(vault: Vault): Promise<VaultInfo> {
  const marker = JSON.parse(await fs.readFile(path.join(vault.dir, "vault.json"), "utf8")) as { createdAt: string };
  return { dir: vault.dir, id: vault.id, createdAt: marker.createdAt, registrationKey: await vault.registrationKeyState(), encryption: vault.encryption };
}
