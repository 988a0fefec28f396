import type { z } from "zod";

export interface FieldFailure {
  /** Dotted path of the offending property, e.g. "disks.0.path". */
  property: string;
  reason: string;
}

/** Bad input: carries every failing property so CLIs, APIs and Pulumi's check can report them all. */
export class ValidationError extends Error {
  readonly code = "InvalidInput";
  /** `message` is given only when rebuilding an error the engine sent (the client). */
  constructor(readonly what: string, readonly failures: FieldFailure[], message = `invalid ${what}: ${failures.map((f) => `${f.property || "(value)"}: ${f.reason}`).join("; ")}`) {
    super(message);
    this.name = "ValidationError";
  }
}

/** One failure per offending property; each unknown key of a strict object is named as a property of its own. */
export function failuresOf(error: z.ZodError): FieldFailure[] {
  const property = (path: PropertyKey[]) => path.map(String).join(".");
  return error.issues.flatMap((i) =>
    i.code === "unrecognized_keys" ? i.keys.map((key) => ({ property: property([...i.path, key]), reason: "is not a known property" })) : [{ property: property(i.path), reason: i.message }],
  );
}

/** Parse with a schema or throw a ValidationError naming each property and reason. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, failuresOf(result.error));
  return result.data;
}
