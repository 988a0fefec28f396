import { promises as fs } from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Engine } from "../engine";
import { EngineError } from "../errors";
import { buildServer } from "./app";

export interface ListenOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  allowedPaths?: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
export const LOCAL_TOKEN_FILE = "admin.token";

/**
 * Serve the API. Loopback needs nothing more; any other address needs TLS (certificate and key files).
 * On first start an admin token is created and written, readable by its owner only, beside the vault,
 * so local commands can use the daemon.
 */
export async function listen(engine: Engine, options: ListenOptions): Promise<{ app: FastifyInstance; url: string; tokenFile: string | null }> {
  const loopback = LOOPBACK.has(options.host) || (isIP(options.host) === 4 && options.host.startsWith("127."));
  if (!loopback && !(options.tlsCert && options.tlsKey)) {
    throw new EngineError("InvalidInput", `listening on ${options.host} needs TLS: give --tls-cert and --tls-key (only loopback may serve plain HTTP)`, false, "host");
  }
  const https = options.tlsCert && options.tlsKey ? { cert: await fs.readFile(options.tlsCert), key: await fs.readFile(options.tlsKey) } : undefined;
  const tokenFile = path.join(engine.vault.dir, LOCAL_TOKEN_FILE);
  let written: string | null = null;
  if (!(await fs.access(tokenFile).then(() => true, () => false))) {
    const token = await engine.createToken(`local-admin-${Date.now().toString(36)}`);
    await fs.writeFile(tokenFile, token + "\n", { mode: 0o600 });
    written = tokenFile;
  }
  const app = buildServer(engine, { https, allowedPaths: options.allowedPaths?.length ? options.allowedPaths : undefined });
  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as { port: number };
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { app, url: `${https ? "https" : "http"}://${host}:${port}`, tokenFile: written };
}
