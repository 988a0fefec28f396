// The harness's stack state: one JSON file per stack, in registration order, so that deletes can
// run in reverse order (dependents were registered after what they depend on).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PropertyMap } from "./values";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  /** false for component resources and the stack itself: they have no provider and no id. */
  custom: boolean;
  id?: string;
  parent?: string;
  /** Inputs after the provider's check: they become `olds` of the next check. */
  inputs: PropertyMap;
  /** What the provider returned (including `__provider`): `olds` of diff, update, read and delete. */
  outputs: PropertyMap;
  /** Outputs kept encrypted in the state file (the resource's additionalSecretOutputs). */
  secretOutputs?: string[];
}

export interface StackState {
  version: 1;
  resources: ResourceState[];
}

export function stateFile(stateDir: string, stack: string): string {
  return path.join(stateDir, `${stack}.json`);
}

export function loadState(file: string): StackState {
  if (!fs.existsSync(file)) return { version: 1, resources: [] };
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as StackState;
  if (parsed.version !== 1 || !Array.isArray(parsed.resources)) throw new Error(`${file}: not a harness state file`);
  return { ...parsed, resources: parsed.resources.map((r) => withSecrets(r, (v) => decrypt(file, v))) };
}

export function saveState(file: string, state: StackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write then rename, so an interrupted run never leaves half a state file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  const sealed = { ...state, resources: state.resources.map((r) => withSecrets(r, (v) => encrypt(file, v))) };
  fs.writeFileSync(tmp, JSON.stringify(sealed, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

// Secret outputs are stored the way Pulumi stores them: an object with Pulumi's secret signature and
// the ciphertext (here AES-256-GCM with a key kept beside the state file, readable by its owner only).
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function withSecrets(res: ResourceState, convert: (value: unknown) => unknown): ResourceState {
  if (!res.secretOutputs?.length) return res;
  const outputs = { ...res.outputs };
  for (const key of res.secretOutputs) if (key in outputs) outputs[key] = convert(outputs[key]);
  return { ...res, outputs };
}

function stateKey(file: string): Buffer {
  const keyFile = `${file}.key`;
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
  }
  return Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "hex");
}

function encrypt(file: string, value: unknown): unknown {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", stateKey(file), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { [SECRET_SIG]: SECRET_VALUE, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64") };
}

function decrypt(file: string, sealed: unknown): unknown {
  const ciphertext = (sealed as { ciphertext?: string } | null)?.ciphertext;
  if ((sealed as Record<string, unknown> | null)?.[SECRET_SIG] !== SECRET_VALUE || !ciphertext) return sealed;
  const raw = Buffer.from(ciphertext, "base64");
  const decipher = createDecipheriv("aes-256-gcm", stateKey(file), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"));
}
