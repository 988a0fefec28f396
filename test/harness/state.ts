// The harness's stack state: one JSON file per stack, the resources in dependency order (what a
// resource depends on comes before it, as in Pulumi's checkpoint), each with the options and
// dependencies the engine keeps for it. Secret properties are stored encrypted, as Pulumi stores them.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensurePrivateFile, PRIVATE_DIR_MODE } from "../../engine/private-files";
import { SECRET_SIG, SIG_KEY } from "./secrets";
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
  /** Inputs that were secret in the program: kept encrypted in the state file. */
  secretInputs?: string[];
  /** Outputs kept encrypted in the state file: additionalSecretOutputs, and outputs whose input was secret. */
  secretOutputs?: string[];
  /** The resource options the engine records in the checkpoint (pkg/resource/deploy/step_generator.go, NewState). */
  protect?: boolean;
  retainOnDelete?: boolean;
  additionalSecretOutputs?: string[];
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  /** URNs this resource depends on: dependsOn and every resource its inputs came from. */
  dependencies?: string[];
  /** Per input, the URNs its value came from. */
  propertyDependencies?: Record<string, string[]>;
  /** The old half of a replacement whose delete failed: deleted by the next run (the checkpoint's `delete`). */
  pendingDelete?: boolean;
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
  makePrivateDirSync(path.dirname(file));
  // Write then rename, so an interrupted run never leaves half a state file behind; 0600 whatever the umask.
  const tmp = `${file}.${process.pid}.tmp`;
  const sealed = { ...state, resources: state.resources.map((r) => withSecrets(r, (v) => encrypt(file, v))) };
  ensurePrivateFile(tmp);
  fs.writeFileSync(tmp, JSON.stringify(sealed, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

function makePrivateDirSync(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

// Secret properties are stored the way Pulumi's checkpoint stores them: an object with Pulumi's secret
// signature and the ciphertext (here AES-256-GCM with a key kept beside the state file, its owner's only).
function withSecrets(res: ResourceState, convert: (value: unknown) => unknown): ResourceState {
  const seal = (props: PropertyMap, keys: string[] | undefined): PropertyMap => {
    if (!keys?.length) return props;
    const out = { ...props };
    for (const key of keys) if (key in out) out[key] = convert(out[key]);
    return out;
  };
  if (!res.secretOutputs?.length && !res.secretInputs?.length) return res;
  return { ...res, inputs: seal(res.inputs, res.secretInputs), outputs: seal(res.outputs, res.secretOutputs) };
}

function stateKey(file: string): Buffer {
  const keyFile = `${file}.key`;
  if (!fs.existsSync(keyFile)) {
    makePrivateDirSync(path.dirname(keyFile));
    ensurePrivateFile(keyFile);
    fs.writeFileSync(keyFile, randomBytes(32).toString("hex"));
  }
  return Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "hex");
}

function encrypt(file: string, value: unknown): unknown {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", stateKey(file), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value ?? null), "utf8"), cipher.final()]);
  return { [SIG_KEY]: SECRET_SIG, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64") };
}

function decrypt(file: string, sealed: unknown): unknown {
  const ciphertext = (sealed as { ciphertext?: string } | null)?.ciphertext;
  if ((sealed as Record<string, unknown> | null)?.[SIG_KEY] !== SECRET_SIG || !ciphertext) return sealed;
  const raw = Buffer.from(ciphertext, "base64");
  const decipher = createDecipheriv("aes-256-gcm", stateKey(file), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"));
}
