import type { z } from "zod";
import { EngineError } from "./errors";

export interface FieldFailure {
  /** Dotted path of the offending property, e.g. "disks.0.path". */
  property: string;
  reason: string;
}

/**
 * Bad input, the one kind: an EngineError with code InvalidInput and `field` the first failing property,
 * so `instanceof EngineError` sees it too. A schema's failure names what the input was and every failing
 * property; a single refused value (ValidationError.refused) has no `what` and keeps its message as is.
 */
export class ValidationError extends EngineError {
  declare readonly code: "InvalidInput";
  /** One refused value: its property and the sentence that says why, shown as is (`error: <message> (<field>)`). */
  static refused(field: string, message: string): ValidationError {
    return new ValidationError(undefined, [{ property: field, reason: message }], message);
  }
  /** `what` is absent only for a single refused value; `message` is given when rebuilding an error the engine sent (the client). */
  constructor(
    readonly what: string | undefined,
    readonly failures: FieldFailure[],
    message = `invalid ${what}: ${failures.map((f) => `${f.property || "(value)"}: ${f.reason}`).join("; ")}`,
  ) {
    super("InvalidInput", message, { field: failures[0]?.property });
    this.name = "ValidationError";
  }
}

/** One failure per offending property; each unknown key of a strict object is named as a property of its own. */
export function failuresOf(error: z.ZodError): FieldFailure[] {
  const property = (path: PropertyKey[]) => path.map(String).join(".");
  return error.issues.flatMap((i) =>
    i.code === "unrecognized_keys"
      ? i.keys.map((key) => ({ property: property([...i.path, key]), reason: "is not a known property" }))
      : [{ property: property(i.path), reason: i.message }],
  );
}

/** Parse with a schema or throw a ValidationError naming each property and reason. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, failuresOf(result.error));
  return result.data;
}
