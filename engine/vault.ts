import { promises as fs } from "node:fs";
import * as path from "node:path";
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { openCatalog, type CatalogDb } from "./catalog/catalog";
import { SqlPackIndex } from "./catalog/sql-pack-index";
import { LocalBackend } from "./store/local/local-backend";
import { blockStoreOn } from "./store/stack";
import type { Backend } from "./store/backend";
import type { BlockStore } from "./store/block-store";
import { systemClock, DAY, type Clock } from "./clock";
import { VaultLock } from "./lock";
import { EngineError } from "./errors";
import { BLOCK_SIZE } from "./disks/block-reader";
import { WindowJournal } from "./disks/window-journal";

const MARKER = "vault.json";
export const REGISTRATION_KEY_LIFETIME_MS = 5 * DAY;

export interface VaultOptions {
  clock?: Clock;
  /** Wraps the block store (tests inject faults; later: encryption, retry). */
  wrapStore?: (store: BlockStore) => BlockStore;
  blockSize?: number;
}

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
    /** Where the store's packs live (agents write packs here too). */
    readonly backend: Backend,
    readonly storeDir: string,
    /** Consistency windows open now; a crash leaves them for the next open to close (crash/recover.ts). */
    readonly windows: WindowJournal,
  ) {}

  /** Create a vault in an empty (or missing) directory; returns it with its registration key, shown once. */
  static async init(dir: string, options: VaultOptions = {}): Promise<{ vault: Vault; registrationKey: string }> {
    const root = path.resolve(dir);
    if (await exists(path.join(root, MARKER))) throw new EngineError("AlreadyExists", `${root} is already a vault`, false, "dir");
    const entries = await fs.readdir(root).catch((e) => (e.code === "ENOENT" ? [] : Promise.reject(e)));
    if (entries.length > 0) throw new EngineError("InvalidInput", `${root} is not empty; a vault needs an empty or new directory`, false, "dir");
    await fs.mkdir(root, { recursive: true });
    const id = randomUUID();
    const vault = await Vault.openAt(root, id, options);
    const registrationKey = await vault.rotateRegistrationKey();
    await fs.writeFile(path.join(root, MARKER), JSON.stringify({ format: 1, id, createdAt: new Date(vault.clock.now()).toISOString() }, null, 2) + "\n");
    return { vault, registrationKey };
  }

  static async open(dir: string, options: VaultOptions = {}): Promise<Vault> {
    const root = path.resolve(dir);
    const marker = await fs.readFile(path.join(root, MARKER), "utf8").catch(() => undefined);
    if (!marker) throw new EngineError("VaultNotFound", `no vault at ${root} (create one with 'lifeboat vault init ${dir}')`, false, "vault");
    return Vault.openAt(root, (JSON.parse(marker) as { id: string }).id, options);
  }

  private static async openAt(root: string, id: string, options: VaultOptions): Promise<Vault> {
    const db = await openCatalog(path.join(root, "catalog.sqlite"));
    const storeDir = path.join(root, "store");
    const backend = new LocalBackend(storeDir);
    const store = blockStoreOn(backend, new SqlPackIndex(db));
    const wrapped = options.wrapStore ? options.wrapStore(store) : store;
    return new Vault(root, id, db, wrapped, options.clock ?? systemClock, new VaultLock(path.join(root, "lock.sqlite")), options.blockSize ?? BLOCK_SIZE, backend, storeDir, new WindowJournal(path.join(root, "windows")));
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
    for (const row of rows) await this.db.insertInto("meta").values(row).onConflict((oc) => oc.column("key").doUpdateSet({ value: row.value })).execute();
    return key;
  }

  /** Revoke the registration key before it expires: agents can no longer register with it. */
  async revokeRegistrationKey(): Promise<void> {
    const value = String(this.clock.now());
    await this.db.insertInto("meta").values({ key: "registration_key_revoked", value }).onConflict((oc) => oc.column("key").doUpdateSet({ value })).execute();
  }

  async registrationKeyState(): Promise<{ createdAt: string; expiresAt: string; expired: boolean; revokedAt: string | null }> {
    const meta = await this.meta();
    const created = Number(meta.registration_key_created);
    const expires = Number(meta.registration_key_expires);
    const revoked = meta.registration_key_revoked ? Number(meta.registration_key_revoked) : null;
    return { createdAt: new Date(created).toISOString(), expiresAt: new Date(expires).toISOString(), expired: this.clock.now() >= expires, revokedAt: revoked === null ? null : new Date(revoked).toISOString() };
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
    const rows = await this.db.selectFrom("meta").selectAll().execute();
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

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
