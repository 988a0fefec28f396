import { createHmac, timingSafeEqual } from "node:crypto";
import type { EncryptionRecord } from "../../schema";
import { EngineError } from "../errors";
import { SealingKey } from "../store/encrypt/sealing-key";
import { describeSource, kekForNewVault, readKek, sourceField, type KeySource, type VaultRef } from "./kek-source";

/**
 * The data key sits in vault.json, wrapped by the KEK, and not in the catalog: the key is checked before
 * anything of the vault is opened, so a wrong key writes nothing.
 */
export interface VaultKey {
  key: SealingKey;
  record: EncryptionRecord;
  /** Where the KEK came from, for the vault's description (never the key). */
  origin: string;
  /** A key file made for this vault, removed again when the vault is not made after all. */
  createdFile?: string;
}

/** A fresh data key for a new vault, wrapped by the KEK from `source` (a key file is created when missing). */
export function createVaultKey(source: KeySource, vault: VaultRef): Promise<VaultKey> {
  return wrapVaultKey(SealingKey.generate(), source, vault);
}

/**
 * A data key wrapped by the KEK from `source` (a key file is created when missing): a new vault's, or an
 * existing vault's when its KEK changes. The data key stays, so nothing stored is rewritten.
 */
export async function wrapVaultKey(key: SealingKey, source: KeySource, vault: VaultRef): Promise<VaultKey> {
  const { kek, created } = await kekForNewVault(source, vault);
  const record: EncryptionRecord = {
    cipher: "aes-256-gcm",
    keyCheck: keyCheck(kek),
    wrappedKey: SealingKey.of(kek).seal("data-key", vault.id, key.bytes()).toString("base64"),
  };
  return { key, record, origin: describeSource(source), createdFile: created };
}

/** The data key of an existing vault; a KEK that is not the vault's fails with WrongKey, having read only vault.json. */
export async function unlockVaultKey(source: KeySource, vault: VaultRef, record: EncryptionRecord): Promise<VaultKey> {
  const kek = await readKek(source, vault);
  const expected = Buffer.from(record.keyCheck, "hex");
  if (!timingSafeEqual(expected, Buffer.from(keyCheck(kek), "hex"))) {
    throw new EngineError(
      "WrongKey",
      `the ${describeSource(source)} does not hold the key of vault ${vault.dir} (id ${vault.id}); nothing was opened or changed`,
      { field: sourceField(source) },
    );
  }
  const raw = SealingKey.of(kek).open("data-key", vault.id, Buffer.from(record.wrappedKey, "base64"));
  if (raw?.length !== 32)
    throw new EngineError(
      "KeyDamaged",
      `the wrapped data key in ${vault.dir}/vault.json is damaged (the key-encryption key is right); restore vault.json from a copy`,
      { field: "encryption" },
    );
  return { key: SealingKey.of(raw), record, origin: describeSource(source) };
}

const keyCheck = (kek: Buffer) => createHmac("sha256", kek).update("lifeboat key check").digest().subarray(0, 8).toString("hex");
