import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { ServedEngine } from "./served-engine";
import { EngineError } from "../errors";
import { whenJobStarts } from "../jobs/job-started";
import { toErrorResponse } from "./errors";
import { renderMetrics } from "./metrics";
import { openApiDocument } from "./openapi";
import { routes, type Route, type ServedRoute } from "./routes";
import { checkResponse, parseBody } from "./body";
import { agentRoutes } from "./agent-routes";
import { defaultAllowedPaths, PathPolicy } from "./confine";
import { DASHBOARD_PATHS, registerDashboard } from "./dashboard";

const OPEN = new Set(["/healthz", "/readyz", ...DASHBOARD_PATHS]);
const allRoutes: ServedRoute[] = [...routes, ...agentRoutes];
const TERMINAL = new Set(["Succeeded", "Failed", "Cancelled", "Suspended"]);

/**
 * The engine's HTTP API. Every request but the health checks needs a bearer token; long operations
 * answer 202 with their job as soon as it starts; errors have one JSON shape and never a stack trace.
 */
export interface ServerOptions {
  logger?: boolean;
  https?: { key: Buffer; cert: Buffer };
  /** Directories that paths in requests must lie in (default: the directory holding the vault). */
  allowedPaths?: string[];
  /**
   * Check every answer against its route's response schema; one that does not fit is answered 500
   * naming the route and properties. For tests: it costs a parse per answer, and the schemas are the contract.
   */
  checkResponses?: boolean;
}

export function buildServer(engine: ServedEngine, options: ServerOptions = {}): FastifyInstance {
  const paths = new PathPolicy(options.allowedPaths ?? defaultAllowedPaths(engine.dir));
  const app = (options.https
    ? Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024, https: options.https })
    : Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 })) as unknown as FastifyInstance;

  app.addHook("onRequest", async (request, reply) => {
    const access = (request.routeOptions.config as { access?: Route["access"] } | undefined)?.access ?? "admin";
    if (OPEN.has(request.url) || access === "registration") return;
    const header = request.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const who = token ? await engine.authenticate(token) : undefined;
    if (!who) {
      await reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send({ error: { code: "Unauthorized", message: token ? "the token is unknown, expired or revoked" : "a bearer token is required" } });
      return reply;
    }
    // An agent's token acts for its own host and nothing else; admin tokens for everything but that.
    const host = (request.params as { host?: string }).host;
    const allowed = access === "agent" ? who.role === "agent" && who.host === host : who.role === "admin";
    if (!allowed) {
      const what = access === "agent" ? `the agent of host '${host}'` : "an admin";
      await reply
        .code(403)
        .send({ error: { code: "Forbidden", message: `a ${who.role} token${who.host ? ` of host '${who.host}'` : ""} cannot call this: only ${what} can` } });
      return reply;
    }
  });

  app.setErrorHandler(async (error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) request.log.error(error);
    await reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    await reply.code(404).send({ error: { code: "NotFound", message: `no route ${request.method} ${request.url}` } });
  });

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/readyz", async () => {
    await engine.ready();
    return { ready: true };
  });
  registerDashboard(app);
  app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4").send(await renderMetrics(engine)));
  app.get("/openapi.json", async () => openApiDocument(allRoutes));
  app.get("/v1/jobs/:job/events", (request, reply) => streamJob(engine, request, reply));

  for (const route of allRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { access: route.access },
      bodyLimit: route.bodyLimit,
      handler: (request, reply) => handle(engine, route, paths, request, reply, options.checkResponses === true),
    });
  }
  return app;
}

async function handle(
  engine: ServedEngine,
  route: ServedRoute,
  paths: PathPolicy,
  request: FastifyRequest,
  reply: FastifyReply,
  checkResponses: boolean,
): Promise<unknown> {
  const answer = (status: number, value: unknown) => {
    if (checkResponses) checkResponse(route.response, `${route.method} ${route.url}`, value);
    return reply.code(status).send(value);
  };
  // The body is validated first: confinement and the handler only ever see values of the schema's types.
  const body = route.body === undefined ? undefined : parseBody(route.body, request.body);
  const req = {
    params: request.params as Record<string, string>,
    body,
    query: request.query as Record<string, string | undefined>,
    confine: (value: unknown) => paths.whyRefused(value),
  };
  if (route.paths) paths.check(`${route.body} body`, await route.paths(req, engine));
  if (!route.job) {
    const result = await route.handle(engine, req);
    return answer(route.creates ? 201 : 200, result);
  }
  // The operation goes on after the answer; what it fails with later is recorded in its job.
  const { started, done } = whenJobStarts(() => route.handle(engine, req));
  done.catch(() => undefined);
  const jobId = await started;
  if (!jobId) await done; // it ended (or failed checks) before starting a job: its error is the answer
  if (!jobId) throw new EngineError("InternalError", "the operation started no job");
  reply.header("location", `/v1/jobs/${jobId}`);
  return answer(202, await engine.job(jobId));
}

/** Server-sent events: the job each time it changes, until it ends (or waits for a person). */
async function streamJob(engine: ServedEngine, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { job: id } = request.params as { job: string };
  let job = await engine.job(id);
  reply.hijack();
  reply.raw.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let last = "";
  let closed = false;
  request.raw.on("close", () => (closed = true));
  while (!closed) {
    const text = JSON.stringify(job);
    if (text !== last) {
      reply.raw.write(`event: job\ndata: ${text}\n\n`);
      last = text;
    }
    if (TERMINAL.has(job.state)) break;
    await new Promise((r) => setTimeout(r, 250));
    job = await engine.job(id);
  }
  reply.raw.end();
}
