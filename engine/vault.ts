import { promises as fs } from "node:fs";
import * as path from "node:path";
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Transaction } from "kysely";
import { openCatalog, type CatalogDb } from "./catalog/catalog";
import type { Tables } from "./catalog/tables";
import { SqlPackIndex } from "./catalog/sql-pack-index";
import { localBackendAt } from "./store/local/local-backend";
import { vaultStoreOn } from "./store/stack";
import type { BackendFactory } from "./store/backend";
import type { SharedPacks } from "./store/packed/shared-packs";
import type { BlockStore } from "./store/block-store";
import { systemClock, DAY, iso, type Clock } from "./clock";
import { VaultLock } from "./lock";
import { CyclePool } from "./workers/cycle-pool";
import { EngineError } from "./errors";
import { BLOCK_SIZE } from "./disks/block-reader";
import { ensurePrivateFile, makePrivateDir, writePrivateFile } from "./private-files";
import type { SealingKey } from "./store/encrypt/sealing-key";
import { keySource, type KeyFlags } from "./keys/kek-source";
import { createVaultKey, unlockVaultKey, wrapVaultKey, type VaultKey } from "./keys/vault-key";
import { parse, ValidationError, VaultMarker, type RegistrationKeyState, type VaultEncryption } from "../schema";
import { WindowJournal } from "./disks/window-journal";
import { exists, unlessMissing } from "./io/exists";
import { allMeta, setMetaValue } from "./catalog/meta";

const MARKER = "vault.json";
export const REGISTRATION_KEY_LIFETIME_MS = 5 * DAY;

export interface VaultOptions {
  clock?: Clock;
  /** Wraps the block store (tests inject faults; later: retry). */
  wrapStore?: (store: BlockStore) => BlockStore;
  /** Builds the backend that holds the packs (default: files under the store directory; tests inject faults). */
  backend?: BackendFactory;
  blockSize?: number;
  /**
   * Where the key-encryption key comes from (--key-file / --key-command); unset, the environment, else
   * the vault's default key file (see keys/kek-source.ts).
   */
  key?: KeyFlags;
  /**
   * Create the vault without encryption at rest. Only for the benchmark that measures what encryption
   * costs; never offered to users. Ignored when opening a vault (vault.json says what it is).
   */
  unencrypted?: boolean;
}

/** How a vault's data is kept at rest, for its description (the API's type). */
export type { VaultEncryption };

/** A vault directory: catalog, block store and lock, opened together. */
export class Vault {
  private constructor(
    readonly dir: string,
    readonly id: string,
    readonly db: CatalogDb,
    readonly store: BlockStore,
    readonly clock: Clock,
    readonly lock: VaultLock,
    readonly blockSize: number,
    /** The store's packs as agents share them: where they are, lookups, adopting the packs an agent wrote. */
    readonly packs: SharedPacks<Transaction<Tables>>,
    /** Seals the blocks and manifest chunks; undefined in a vault made before encryption at rest (format 1). */
    readonly dataKey: SealingKey | undefined,
    private encryptionState: VaultEncryption,
    /** Consistency windows open now; a crash leaves them for the next open to close (crash/recover.ts). */
    readonly windows: WindowJournal,
  ) {}

  /** The replication work this process runs on the vault now (scheduler.ts): a few units at once, one per item. */
  readonly cycles = new CyclePool();

  get encryption(): VaultEncryption {
    return this.encryptionState;
  }

  /**
   * Create a vault in an empty (or missing) directory; returns it with its registration key, shown once.
   * Its data key is made first and wrapped by the KEK (a default key file is created), so a KEK that
   * cannot be had leaves nothing behind.
   */
  static async init(dir: string, options: VaultOptions = {}): Promise<{ vault: Vault; registrationKey: string }> {
    const root = path.resolve(dir);
    if (await exists(path.join(root, MARKER))) throw new EngineError("AlreadyExists", `${root} is already a vault`, { field: "dir" });
    const entries = (await unlessMissing(fs.readdir(root))) ?? [];
    if (entries.length > 0) throw ValidationError.refused("dir", `${root} is not empty; a vault needs an empty or new directory`);
    const id = randomUUID();
    const key = options.unencrypted ? undefined : await createVaultKey(keySource(options.key ?? {}, id), { id, dir: root });
    try {
      await makePrivateDir(root);
      const vault = await Vault.openAt(root, id, options, key);
      const registrationKey = await vault.rotateRegistrationKey();
      const marker: VaultMarker = { format: 2, id, createdAt: new Date(vault.clock.now()).toISOString(), ...(key ? { encryption: key.record } : {}) };
      await writePrivateFile(path.join(root, MARKER), JSON.stringify(marker, null, 2) + "\n");
      return { vault, registrationKey };
    } catch (error) {
      if (key?.createdFile) await fs.rm(key.createdFile, { force: true });
      throw error;
    }
  }

  /**
   * Open a vault. An encrypted one needs its key-encryption key, checked against vault.json before the
   * catalog or the store is opened: a wrong key fails (WrongKey) having changed nothing. A vault made
   * before encryption at rest opens as it is, unencrypted (its description says so).
   */
  static async open(dir: string, options: VaultOptions = {}): Promise<Vault> {
    const root = path.resolve(dir);
    const text = await fs.readFile(path.join(root, MARKER), "utf8").catch(() => undefined);
    if (!text) throw new EngineError("VaultNotFound", `no vault at ${root} (create one with 'lifeboat vault init ${dir}')`, { field: "vault" });
    const marker = parse(VaultMarker, JSON.parse(text), `${MARKER} of ${root}`);
    const key = marker.encryption ? await unlockVaultKey(keySource(options.key ?? {}, marker.id), { id: marker.id, dir: root }, marker.encryption) : undefined;
    return Vault.openAt(root, marker.id, options, key);
  }

  private static async openAt(root: string, id: string, options: VaultOptions, key: VaultKey | undefined): Promise<Vault> {
    const catalogFile = path.join(root, "catalog.sqlite");
    const lockFile = path.join(root, "lock.sqlite");
    for (const file of [catalogFile, lockFile]) ensurePrivateFile(file);
    const db = await openCatalog(catalogFile);
    const storeDir = path.join(root, "store");
    await makePrivateDir(storeDir);
    const { blocks, packs } = vaultStoreOn((options.backend ?? localBackendAt)(storeDir), new SqlPackIndex(db), key?.key);
    const wrapped = options.wrapStore ? options.wrapStore(blocks) : blocks;
    const encryption: VaultEncryption = key ? { cipher: "aes-256-gcm", key: key.origin } : { cipher: "none", key: null };
    return new Vault(
      root,
      id,
      db,
      wrapped,
      options.clock ?? systemClock,
      new VaultLock(lockFile),
      options.blockSize ?? BLOCK_SIZE,
      packs,
      key?.key,
      encryption,
      new WindowJournal(path.join(root, "windows")),
    );
  }

  /**
   * Wrap the data key with another key-encryption key (from `next`; a key file is made when missing) and
   * replace vault.json atomically: the old KEK opens the vault no more, and nothing stored is rewritten
   * (a leaked KEK is retired this way; a leaked data key is not). The caller holds the vault lock.
   */
  async changeKey(next: KeyFlags): Promise<VaultEncryption> {
    if (!this.dataKey) throw new EngineError("NotEncrypted", `vault ${this.dir} predates encryption at rest and has no key to change`, { field: "vault" });
    const marker = parse(VaultMarker, JSON.parse(await fs.readFile(path.join(this.dir, MARKER), "utf8")), `${MARKER} of ${this.dir}`);
    const key = await wrapVaultKey(this.dataKey, keySource(next, this.id), { id: this.id, dir: this.dir });
    await writePrivateFile(path.join(this.dir, MARKER), JSON.stringify({ ...marker, encryption: key.record }, null, 2) + "\n");
    this.encryptionState = { cipher: "aes-256-gcm", key: key.origin };
    return this.encryptionState;
  }

  /** Issue a new registration key (valid 5 days); only its hash is kept. */
  async rotateRegistrationKey(): Promise<string> {
    const key = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const rows = [
      { key: "registration_key_sha256", value: sha256(key) },
      { key: "registration_key_created", value: String(now) },
      { key: "registration_key_expires", value: String(now + REGISTRATION_KEY_LIFETIME_MS) },
      { key: "registration_key_revoked", value: "" },
    ];
    for (const row of rows) await setMetaValue(this.db, row.key, row.value);
    return key;
  }

  /** Revoke the registration key before it expires: agents can no longer register with it. */
  async revokeRegistrationKey(): Promise<void> {
    const value = String(this.clock.now());
    await setMetaValue(this.db, "registration_key_revoked", value);
  }

  async registrationKeyState(): Promise<RegistrationKeyState> {
    const meta = await this.meta();
    const created = Number(meta.registration_key_created);
    const expires = Number(meta.registration_key_expires);
    const revoked = meta.registration_key_revoked ? Number(meta.registration_key_revoked) : null;
    return {
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(expires).toISOString(),
      expired: this.clock.now() >= expires,
      revokedAt: iso(revoked),
    };
  }

  /** Compares hashes in constant time; a key that matches but expired or was revoked says so. */
  async checkRegistrationKey(key: string): Promise<"valid" | "expired" | "revoked" | "invalid"> {
    const meta = await this.meta();
    const expected = Buffer.from(meta.registration_key_sha256 ?? "", "hex");
    const given = Buffer.from(sha256(key), "hex");
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
    if (meta.registration_key_revoked) return "revoked";
    return this.clock.now() >= Number(meta.registration_key_expires) ? "expired" : "valid";
  }

  private async meta(): Promise<Record<string, string>> {
    const rows = await allMeta(this.db);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.db.destroy();
    this.lock.close();
    this.windows.close();
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
