import { z } from "zod";
import type { ServedRoute } from "./routes";
import { ErrorBody } from "../../schema";
import { bodySchema, responseSchema } from "./body";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string) => ({ "application/json": { schema: ref(name) } });

/** The OpenAPI document, generated from the same zod schemas that validate the requests and describe the answers. */
export function openApiDocument(routes: ServedRoute[]): unknown {
  const json = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any" });
  // Each request body's component is the zod schema of that name, as it is sent (defaults optional).
  const bodies = new Set(routes.flatMap((r) => (r.body ? [r.body] : [])));
  // Each answer's too, as it is received; a schema that is also a body (a spec echoed back) gets its own name.
  const answerComponent = (name: string) => (bodies.has(name as never) ? `${name}Answer` : name);
  const answers = new Set(routes.map((r) => r.response));
  const components: Record<string, unknown> = {
    ...Object.fromEntries([...bodies].map((name) => [name, json(bodySchema(name), "input")])),
    ...Object.fromEntries([...answers].map((name) => [answerComponent(name), json(responseSchema(name), "output")])),
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
        ...(r.body ? { requestBody: { required: !bodySchema(r.body).safeParse({}).success, content: jsonBody(r.body) } } : {}),
        responses: {
          [r.job ? "202" : r.creates ? "201" : "200"]: { description: r.job ? "the job, started" : "OK", content: jsonBody(answerComponent(r.response)) },
          "400": { description: "bad input", content: jsonBody("Error") },
          "401": { description: "missing, wrong or expired token", content: jsonBody("Error") },
          "404": { description: "not found", content: jsonBody("Error") },
          "409": { description: "state conflict", content: jsonBody("Error") },
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
