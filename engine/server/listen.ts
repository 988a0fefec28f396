import { promises as fs } from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import type { ServedEngine } from "./served-engine";
import { ValidationError } from "../../schema";
import { buildServer } from "./app";
import { writePrivateFile } from "../private-files";
import { exists } from "../io/exists";
import { DAEMON_FILE, LOCAL_TOKEN_FILE, type DaemonRecord } from "./daemon-files";

export interface ListenOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  allowedPaths?: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
export { LOCAL_TOKEN_FILE, DAEMON_FILE };

/**
 * Serve the API. Loopback needs nothing more; any other address needs TLS (certificate and key files).
 * On first start an admin token is created and written, readable by its owner only, beside the vault,
 * so local commands can use the daemon.
 */
export async function listen(engine: ServedEngine, options: ListenOptions): Promise<{ app: FastifyInstance; url: string; tokenFile: string | null }> {
  const loopback = LOOPBACK.has(options.host) || (isIP(options.host) === 4 && options.host.startsWith("127."));
  if (!loopback && !(options.tlsCert && options.tlsKey)) {
    throw ValidationError.refused("host", `listening on ${options.host} needs TLS: give --tls-cert and --tls-key (only loopback may serve plain HTTP)`);
  }
  const https = options.tlsCert && options.tlsKey ? { cert: await fs.readFile(options.tlsCert), key: await fs.readFile(options.tlsKey) } : undefined;
  const tokenFile = path.join(engine.dir, LOCAL_TOKEN_FILE);
  let written: string | null = null;
  if (!(await exists(tokenFile))) {
    const token = await engine.createToken(`local-admin-${Date.now().toString(36)}`);
    await writePrivateFile(tokenFile, token + "\n");
    written = tokenFile;
  }
  const app = buildServer(engine, { https, allowedPaths: options.allowedPaths?.length ? options.allowedPaths : undefined });
  const daemon = daemonRecord(app, path.join(engine.dir, DAEMON_FILE));
  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as { port: number };
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `${https ? "https" : "http"}://${host}:${port}`;
  await daemon.write(url);
  return { app, url, tokenFile: written };
}

/**
 * The daemon record, written once listening and removed on close (unless another daemon has written its
 * own since). The hook is added before listening: fastify takes no hooks after.
 */
function daemonRecord(app: FastifyInstance, file: string): { write(url: string): Promise<void> } {
  let record: string | undefined;
  app.addHook("onClose", async () => {
    if (record && (await fs.readFile(file, "utf8").catch(() => "")) === record) await fs.rm(file, { force: true });
  });
  return {
    async write(url) {
      record = JSON.stringify({ url, pid: process.pid } satisfies DaemonRecord) + "\n";
      await writePrivateFile(file, record); // atomic: a provider may be reading it to find this daemon
    },
  };
}
