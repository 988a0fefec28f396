// Secret values on the wire, as the Node.js SDK sends them once the monitor answers
// supportsFeature("secrets") (sdk/nodejs/runtime/rpc.ts serializeSecretValue): an object carrying
// Pulumi's signature key. The harness keeps secretness per top-level property (a property holding a
// secret anywhere is secret as a whole — never less secret than Pulumi keeps it), so property maps stay
// plain JavaScript for the provider and the key lists say what the state file must encrypt.
import type { PropertyMap } from "./values";

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as PropertyMap)[SIG_KEY] === SECRET_SIG;
}

export function secretValue(value: unknown): PropertyMap {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** The value with every secret wrapper removed, and whether there was one. */
export function reveal(value: unknown): { value: unknown; secret: boolean } {
  if (isSecretValue(value)) return { value: reveal(value.value).value, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(reveal);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (typeof value === "object" && value !== null) {
    let secret = false;
    const out: PropertyMap = {};
    for (const [k, v] of Object.entries(value)) {
      const r = reveal(v);
      out[k] = r.value;
      secret ||= r.secret;
    }
    return { value: out, secret };
  }
  return { value, secret: false };
}

/** Plain properties (what a provider that does not accept secrets is sent) and the keys that held secrets. */
export function splitSecrets(props: PropertyMap): { plain: PropertyMap; secretKeys: string[] } {
  const plain: PropertyMap = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(props)) {
    const r = reveal(value);
    plain[key] = r.value;
    if (r.secret) secretKeys.push(key);
  }
  return { plain, secretKeys };
}

/** The properties with the given keys wrapped as secrets again (what the SDK is answered). */
export function markSecrets(props: PropertyMap, keys: readonly string[] | undefined): PropertyMap {
  if (!keys?.length) return props;
  const out = { ...props };
  for (const key of keys) if (key in out) out[key] = secretValue(out[key]);
  return out;
}

/** Keys of both lists, once; undefined when empty (the state file leaves the field out). */
export function unionKeys(...lists: (readonly string[] | undefined)[]): string[] | undefined {
  const all = [...new Set(lists.flatMap((l) => l ?? []))];
  return all.length ? all : undefined;
}
