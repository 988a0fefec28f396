import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Vault } from "../vault";
import type { VaultInfo } from "../../schema";
export type { VaultInfo };

/** The vault's identity and its registration key's state (never the key: it is shown once, when issued). */
export async function vaultInfo(vault: Vault): Promise<VaultInfo> {
  const marker = JSON.parse(await fs.readFile(path.join(vault.dir, "vault.json"), "utf8")) as { createdAt: string };
  return { dir: vault.dir, id: vault.id, createdAt: marker.createdAt, registrationKey: await vault.registrationKeyState(), encryption: vault.encryption };
}
