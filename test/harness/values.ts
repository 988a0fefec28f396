// Conversions between plain JavaScript objects and google.protobuf.Struct, the shape every
// Pulumi RPC uses for property bags. Kept in one place so the monitor and the provider client
// agree on how an absent Struct reads (as an empty bag, which is what the engine sends).
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

export type PropertyMap = Record<string, unknown>;

/** What the SDK and the engine send for a value not known yet (sdk/nodejs/runtime/rpc.ts unknownValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function toStruct(props: PropertyMap): Struct {
  // Struct.fromJavaScript rejects `undefined`; the engine drops such keys too.
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as Parameters<typeof Struct.fromJavaScript>[0]);
}

export function fromStruct(struct: Struct | undefined): PropertyMap {
  return struct ? (struct.toJavaScript() as PropertyMap) : {};
}

/** Structural equality of JSON-like values (the engine's fallback when a provider's diff is unsure). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const sorted: PropertyMap = {};
    for (const key of Object.keys(value).sort()) sorted[key] = canonical((value as PropertyMap)[key]);
    return sorted;
  }
  return value;
}
