import type { Vault } from "../vault";
import { AgentRegistration, parse, ValidationError } from "../../schema";
import { EngineError } from "../errors";
import { issueAgentToken } from "../auth/tokens";
import { HEARTBEAT_MS } from "../inventory/hosts";
import { registeredHost } from "./work";
import type { AgentIdentity } from "../../schema";
export type { AgentIdentity };
import { registerHostAgent, sitesWithHost } from "../catalog/hosts";
import { findSite } from "../catalog/sites";

const REFUSED = {
  invalid: "the registration key is not this vault's",
  expired: "the registration key has expired (keys are valid for 5 days); issue a new one with 'lifeboat vault rotate-key'",
  revoked: "the registration key was revoked; issue a new one with 'lifeboat vault rotate-key'",
} as const;

/**
 * Register the agent of a source host with the vault's registration key: the host is added to its site
 * when new, and the agent gets a token of its own, bound to the host. A refused key changes nothing.
 */
export async function registerAgent(vault: Vault, input: unknown): Promise<AgentIdentity> {
  const spec = parse(AgentRegistration, input, "agent registration");
  const key = await vault.checkRegistrationKey(spec.registrationKey);
  if (key !== "valid") throw new EngineError("Unauthorized", REFUSED[key], { field: "registrationKey" });
  const site = await siteOfHost(vault, spec.host, spec.site);
  const now = vault.clock.now();
  await vault.db.transaction().execute((trx) => registerHostAgent(trx, site.id, spec.host, now));
  const token = await issueAgentToken(vault, spec.host);
  return { host: spec.host, site: site.name, token, storeDir: vault.packs.where, blockSize: vault.blockSize, heartbeatMs: HEARTBEAT_MS };
}

/**
 * The vault's data key, for a registered agent (over its own authenticated channel: loopback or TLS, as
 * the daemon enforces): agents seal the blocks they write into the shared store with it. Null for a
 * vault made before encryption at rest. The agent keeps it in memory only, never in its work directory,
 * and a revoked agent token fetches it no more.
 */
export async function agentDataKey(vault: Vault, host: string): Promise<{ dataKey: string | null }> {
  await registeredHost(vault, host);
  return { dataKey: vault.dataKey?.bytes().toString("base64") ?? null };
}

/** The source site a host registers in: the one named, else the only site that already has the host. */
async function siteOfHost(vault: Vault, host: string, siteName: string | undefined): Promise<{ id: number; name: string }> {
  const fail = (property: string, reason: string) => new ValidationError("agent registration", [{ property, reason }]);
  if (siteName) {
    const site = await findSite(vault.db, siteName);
    if (!site) throw fail("site", `no site named '${siteName}'`);
    if (site.kind === "recovery") throw fail("site", `'${siteName}' is a recovery site; agents run on source hosts`);
    return site;
  }
  const sites = await sitesWithHost(vault.db, host);
  if (sites.length === 1) return sites[0];
  throw fail(
    "site",
    sites.length
      ? `host '${host}' is in several sites (${sites.map((s) => s.name).join(", ")}); name one`
      : `host '${host}' is in no site yet; name the site to add it to`,
  );
}
