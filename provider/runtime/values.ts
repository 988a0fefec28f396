// Property values as the dynamic provider hands them over: plain JSON, with preview's unknowns.

export type Props = Record<string, unknown>;

/**
 * An input the program side adds to every resource: whether this run is a preview (pulumi.runtime.isDryRun).
 * The check reads it and leaves it out of the inputs it returns, so it is never stored or shown.
 */
export const PREVIEW_FLAG = "__preview";

/** What a value not yet known in a preview arrives as, whatever type the property has. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** The value at a property path (zod's issue path), or undefined. */
export function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** JSON with object keys sorted and list order kept: equal values give equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Props)[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys((value as Props)[k])]),
    );
  }
  return value;
}

export const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The value of a call, or undefined when the engine says the thing does not exist. */
export async function unlessMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if ((error as { code?: string }).code === "NotFound") return undefined;
    throw error;
  }
}

/**
 * Inputs besides the spec: the vault, `adopt` (for create alone), the serialized provider, and hints the
 * program side adds for the check (named `__...`). None is part of what the engine is sent.
 */
export const isPlumbing = (key: string) => key === "vault" || key === "adopt" || key.startsWith("__");

/** The spec part of inputs or outputs: everything but the plumbing and observed outputs. */
export function specOf(props: Props, observed: string[] = []): Props {
  const skip = new Set(observed);
  return Object.fromEntries(Object.entries(props).filter(([k]) => !skip.has(k) && !isPlumbing(k)));
}

/**
 * What the engine reports as null is absent in a program: undefined here, so a refresh shows no false
 * drift, and a value removed outside the program still overrides the old output.
 */
export function withoutNulls(props: Props): Props {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v ?? undefined]));
}
