import type { z } from "zod";
import * as schema from "../../schema";
import type { BodyName } from "./routes";

/** The zod schema a route's body names (an export of schema/; the route table's types make sure it is one). */
export function bodySchema(name: BodyName): z.ZodType {
  return (schema as unknown as Record<BodyName, z.ZodType>)[name];
}

/**
 * A request body parsed by its route's schema, before anything else looks at it. An absent body is an
 * empty object (operations whose options all have defaults may be called bare); anything the schema
 * refuses is a ValidationError naming each offending property.
 */
export function parseBody(name: BodyName, raw: unknown): unknown {
  return schema.parse(bodySchema(name), raw === undefined ? {} : raw, `${name} body`);
}
