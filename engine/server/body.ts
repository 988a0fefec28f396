import type { z } from "zod";
import * as schema from "../../schema";
import type { BodyName, ResponseName } from "./routes";

/** The zod schema of that name: an export of schema/ (the route table's types make sure it is one). */
function schemaNamed(name: BodyName | ResponseName): z.ZodType {
  return (schema as unknown as Record<BodyName, z.ZodType>)[name];
}

/** The zod schema a route's body names. */
export const bodySchema = (name: BodyName): z.ZodType => schemaNamed(name);

/** The zod schema a route's answer names. */
export const responseSchema = (name: ResponseName): z.ZodType => schemaNamed(name);

/**
 * A request body parsed by its route's schema, before anything else looks at it. An absent body is an
 * empty object (operations whose options all have defaults may be called bare); anything the schema
 * refuses is a ValidationError naming each offending property.
 */
export function parseBody(name: BodyName, raw: unknown): unknown {
  return schema.parse(bodySchema(name), raw === undefined ? {} : raw, `${name} body`);
}

/**
 * An answer checked against its route's schema (servers built for tests do this for every answer): one
 * that does not fit is the engine's bug, an InternalError naming the route and each property.
 */
export function checkResponse(name: ResponseName, route: string, value: unknown): void {
  const result = responseSchema(name).safeParse(value);
  if (!result.success) {
    const failures = schema.failuresOf(result.error).map((f) => `${f.property || "(value)"}: ${f.reason}`);
    throw new schema.EngineError("InternalError", `the answer of ${route} does not fit its schema ${name}: ${failures.join("; ")}`);
  }
}
