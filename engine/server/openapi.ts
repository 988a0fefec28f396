import { z } from "zod";
import type { ServedRoute } from "./routes";
import { ErrorBody } from "../../schema";
import { bodySchema } from "./body";

/** The OpenAPI document, generated from the same zod schemas that validate the requests. */
export function openApiDocument(routes: ServedRoute[]): unknown {
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  // Each request body's component is the zod schema of that name.
  const bodies = [...new Set(routes.flatMap((r) => (r.body ? [r.body] : [])))];
  const components: Record<string, unknown> = {
    ...Object.fromEntries(bodies.map((name) => [name, json(bodySchema(name))])),
    // The error body lists every code (schema/errors.ts).
    Error: z.toJSONSchema(ErrorBody),
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, "{$1}");
    const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    paths[path] = {
      ...paths[path],
      [r.method.toLowerCase()]: {
        summary: r.summary,
        parameters: params,
        // A body is required unless the schema takes an empty object (all its fields optional).
        ...(r.body ? { requestBody: { required: !bodySchema(r.body).safeParse({}).success, content: { "application/json": { schema: { $ref: `#/components/schemas/${r.body}` } } } } } : {}),
        responses: {
          [r.job ? "202" : "200"]: { description: r.job ? "the job, started" : "OK" },
          "400": { description: "bad input", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
          "401": { description: "missing, wrong or expired token" },
          "404": { description: "not found" },
          "409": { description: "state conflict" },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Lifeboat engine API", version: "1" },
    components: { schemas: components, securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
