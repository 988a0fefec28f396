import type { z } from "zod";

export interface FieldFailure {
  /** Dotted path of the offending property, e.g. "disks.0.path". */
  property: string;
  reason: string;
}

/** Bad input: carries every failing property so CLIs, APIs and Pulumi's check can report them all. */
export class ValidationError extends Error {
  readonly code = "InvalidInput";
  constructor(readonly what: string, readonly failures: FieldFailure[]) {
    super(`invalid ${what}: ${failures.map((f) => `${f.property || "(value)"}: ${f.reason}`).join("; ")}`);
    this.name = "ValidationError";
  }
}

export function failuresOf(error: z.ZodError): FieldFailure[] {
  return error.issues.map((i) => ({ property: i.path.map(String).join("."), reason: i.message }));
}

/** Parse with a schema or throw a ValidationError naming each property and reason. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, failuresOf(result.error));
  return result.data;
}
