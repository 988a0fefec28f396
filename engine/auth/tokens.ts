import { createHash, randomBytes } from "node:crypto";
import type { Vault } from "../vault";
import { ConflictError, NotFoundError } from "../errors";
import { Name, parse } from "../../schema";
import { deleteAgentTokens, findTokenByHash, findTokenNamed, insertToken as insertTokenRow, revokeTokenNamed } from "../catalog/tokens";

export type Role = "admin" | "agent";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export interface TokenHolder {
  name: string;
  role: Role;
  /** An agent's token acts for this host only. */
  host: string | null;
}

/** Issue a bearer token (shown once; only its hash is kept). */
export async function createToken(vault: Vault, name: string, role: Role, lifetimeMs?: number): Promise<string> {
  const valid = parse(Name, name, "token name");
  if (await findTokenNamed(vault.db, valid)) throw new ConflictError(`a token named '${valid}' already exists`, "name");
  return insertToken(vault, { name: valid, role, host: null }, lifetimeMs);
}

/** The token of a host's agent; registering again replaces the previous agent's token. */
export async function issueAgentToken(vault: Vault, host: string): Promise<string> {
  await deleteAgentTokens(vault.db, host);
  return insertToken(vault, { name: `agent-${host}`, role: "agent", host });
}

async function insertToken(vault: Vault, holder: TokenHolder, lifetimeMs?: number): Promise<string> {
  const token = `lbt_${randomBytes(32).toString("base64url")}`;
  const now = vault.clock.now();
  await insertTokenRow(vault.db, {
    name: holder.name,
    sha256: sha256(token),
    role: holder.role,
    host: holder.host,
    created_at: now,
    expires_at: lifetimeMs ? now + lifetimeMs : null,
    revoked_at: null,
  });
  return token;
}

export async function revokeToken(vault: Vault, name: string): Promise<void> {
  if (!(await revokeTokenNamed(vault.db, name, vault.clock.now()))) throw new NotFoundError("token", name);
}

/** Who a presented token stands for, or undefined for an unknown, expired or revoked one. */
export async function checkToken(vault: Vault, token: string): Promise<TokenHolder | undefined> {
  const row = await findTokenByHash(vault.db, sha256(token));
  if (!row || row.revoked_at !== null || (row.expires_at !== null && vault.clock.now() >= row.expires_at)) return undefined;
  return { name: row.name, role: row.role as Role, host: row.host };
}
