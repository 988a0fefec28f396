import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { ValidationError } from "../../schema";
import { EngineError } from "../errors";
import { KEY_BYTES } from "../store/encrypt/sealing-key";

/**
 * Where a vault's key-encryption key (KEK) comes from. The KEK only wraps the vault's data key (kept,
 * wrapped, in vault.json), so it never touches the store and can live apart from it:
 * - a key file (0600) outside the vault: by default `$LIFEBOAT_KEY_DIR/<vault id>.key`, else
 *   `${XDG_CONFIG_HOME:-~/.config}/lifeboat/keys/<vault id>.key`. Not inside the vault directory: a vault
 *   is copied off-site whole (catalog and store), and a key beside it would travel with it;
 * - the key itself in `$LIFEBOAT_VAULT_KEY`;
 * - a key command (a KMS hook): a shell command that prints the KEK, run with `$LIFEBOAT_VAULT_ID` and
 *   `$LIFEBOAT_VAULT_DIR` set so one command can serve many vaults.
 * A KEK is 32 bytes, written as 64 hex digits or base64; surrounding white space is ignored.
 */
export type KeySource = { kind: "file"; path: string } | { kind: "command"; command: string } | { kind: "env"; value: string };

/** --key-file and --key-command, as a command (or VaultOptions) gives them. */
export interface KeyFlags {
  keyFile?: string;
  keyCommand?: string;
}

const KEY_COMMAND_TIMEOUT_MS = 60_000;

/**
 * The KEK's source for a vault: a flag, else the environment ($LIFEBOAT_VAULT_KEY, $LIFEBOAT_KEY_COMMAND,
 * $LIFEBOAT_KEY_FILE), else the vault's default key file. Two sources given at one level are refused
 * rather than one silently winning.
 */
export function keySource(flags: KeyFlags, vaultId: string, env: NodeJS.ProcessEnv = process.env): KeySource {
  const fromFlags = [flags.keyFile !== undefined && "--key-file", flags.keyCommand !== undefined && "--key-command"].filter(Boolean);
  if (fromFlags.length > 1) throw ValidationError.refused("keyCommand", "give either --key-file or --key-command, not both");
  if (flags.keyFile !== undefined) return { kind: "file", path: path.resolve(flags.keyFile) };
  if (flags.keyCommand !== undefined) return { kind: "command", command: flags.keyCommand };
  const fromEnv = ["LIFEBOAT_VAULT_KEY", "LIFEBOAT_KEY_COMMAND", "LIFEBOAT_KEY_FILE"].filter((name) => env[name]);
  if (fromEnv.length > 1) throw ValidationError.refused(fromEnv[1], `set only one of ${fromEnv.join(", ")}`);
  if (env.LIFEBOAT_VAULT_KEY) return { kind: "env", value: env.LIFEBOAT_VAULT_KEY };
  if (env.LIFEBOAT_KEY_COMMAND) return { kind: "command", command: env.LIFEBOAT_KEY_COMMAND };
  if (env.LIFEBOAT_KEY_FILE) return { kind: "file", path: path.resolve(env.LIFEBOAT_KEY_FILE) };
  return { kind: "file", path: defaultKeyFile(vaultId, env) };
}

export function defaultKeyFile(vaultId: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.LIFEBOAT_KEY_DIR || path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "lifeboat", "keys");
  return path.resolve(dir, `${vaultId}.key`);
}

/** How a source is named in messages and in the vault's description (never the key itself). */
export function describeSource(source: KeySource): string {
  if (source.kind === "file") return `key file ${source.path}`;
  if (source.kind === "command") return "key command";
  return "LIFEBOAT_VAULT_KEY";
}

/** The property errors about a source name. */
export function sourceField(source: KeySource): string {
  return source.kind === "file" ? "keyFile" : source.kind === "command" ? "keyCommand" : "LIFEBOAT_VAULT_KEY";
}

export interface VaultRef {
  id: string;
  dir: string;
}

/** The KEK of an existing vault. */
export async function readKek(source: KeySource, vault: VaultRef): Promise<Buffer> {
  if (source.kind === "env") return parseKek(source.value, source);
  if (source.kind === "command") return parseKek(await runKeyCommand(source, vault), source);
  const text = await fs.readFile(source.path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
    throw new EngineError(
      "KeyNotFound",
      `vault ${vault.dir} is encrypted and its ${describeSource(source)} does not exist; give the key with --key-file, --key-command or LIFEBOAT_VAULT_KEY`,
      { field: "keyFile" },
    );
  });
  await refuseExposedFile(source.path);
  return parseKek(text, source);
}

/**
 * The KEK for a new vault: a key file is created (0600, in a 0700 directory) with a random key when it
 * does not exist, and used as it is when it does (one KEK may guard several vaults); the environment
 * and a key command give the KEK they hold. `created` is the file made, for the caller to remove when
 * the vault is not made after all.
 */
export async function kekForNewVault(source: KeySource, vault: VaultRef): Promise<{ kek: Buffer; created?: string }> {
  if (source.kind !== "file") return { kek: await readKek(source, vault) };
  const kek = randomBytes(KEY_BYTES);
  await fs.mkdir(path.dirname(source.path), { recursive: true, mode: 0o700 });
  try {
    // Exclusive: two inits never write the same file, and an existing key is never overwritten.
    await fs.writeFile(source.path, kek.toString("base64") + "\n", { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return { kek: await readKek(source, vault) };
    throw error;
  }
  return { kek, created: source.path };
}

/** A key file others can read is refused, as ssh refuses a private key others can read. */
async function refuseExposedFile(file: string): Promise<void> {
  const { mode } = await fs.stat(file);
  if (mode & 0o077)
    throw new EngineError(
      "InsecureKeyFile",
      `key file ${file} is readable or writable by others (mode ${(mode & 0o777).toString(8)}); run 'chmod 600 ${file}'`,
      { field: "keyFile" },
    );
}

function runKeyCommand(source: Extract<KeySource, { kind: "command" }>, vault: VaultRef): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, LIFEBOAT_VAULT_ID: vault.id, LIFEBOAT_VAULT_DIR: vault.dir };
    execFile("/bin/sh", ["-c", source.command], { env, timeout: KEY_COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const why = error.killed ? `did not finish within ${KEY_COMMAND_TIMEOUT_MS / 1000} s` : `failed (exit ${error.code ?? error.signal})`;
      const said = stderr.trim().split("\n").slice(-3).join(" / ");
      reject(new EngineError("KeyUnavailable", `the key command ${why}${said ? `: ${said}` : ""}`, { field: "keyCommand" }));
    });
  });
}

/** 64 hex digits or base64 (standard or URL-safe) of exactly 32 bytes. */
export function parseKek(text: string, source: KeySource): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, "base64");
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new EngineError("InvalidKey", `the ${describeSource(source)} does not hold a key: expected ${KEY_BYTES} bytes as 64 hex digits or base64`, {
    field: sourceField(source),
  });
}
