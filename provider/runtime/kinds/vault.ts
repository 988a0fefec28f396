import * as path from "node:path";
import { VAULT_OUTPUTS, VaultSpec } from "../../../schema";
import { fields, type Context, type KindDefinition } from "../resource";
import { isVault, stopEmbeddedDaemon, usesEmbeddedDefault } from "../connection";

/** The engine must serve this very vault: a configured endpoint may belong to another. */
async function sameVault(ctx: Context, dir: string) {
  const { engine, endpoint } = await ctx.connection();
  const info = await engine.vaultInfo();
  if (path.resolve(info.dir) !== dir) throw new Error(`the engine at ${endpoint} serves the vault ${info.dir}, not ${dir}`);
  return { engine, endpoint, info };
}

/**
 * What a delete tells the user. A dynamic provider's hooks have no log channel to the engine (no engine
 * address in their process, pulumi/pulumi#18249); the CLI shows the provider's stdout as info lines.
 */
const tell = (message: string) => console.log(`lifeboat: ${message}`);

/**
 * A vault: a directory with the catalog and block store, served by a daemon (the embedded default
 * starts one). Create issues a fresh registration key for agents (a secret output, valid 5 days).
 * Delete revokes that key (no new agent can register with it), keeps the directory and its recovery
 * data (removing those is left to a person) and stops the vault's daemon if the provider started it.
 */
export const vault: KindDefinition = {
  schema: VaultSpec,
  inVault: false,
  identity: fields("path"),
  observed: [...VAULT_OUTPUTS],
  async create(ctx, inputs) {
    const dir = inputs.path as string;
    const { engine, endpoint } = await sameVault(ctx, dir);
    const registrationKey = await engine.rotateRegistrationKey();
    const info = await engine.vaultInfo();
    return { id: dir, observed: { endpoint, registrationKey, registrationKeyExpiresAt: info.registrationKey.expiresAt } };
  },
  async update() {
    return undefined;
  },
  async read(ctx, id, outs) {
    // Refresh must not create the vault it finds gone (the embedded default would).
    if (usesEmbeddedDefault() && !(await isVault(id))) return undefined;
    const { endpoint, info } = await sameVault(ctx, id);
    return { path: id, endpoint, registrationKey: outs.registrationKey, registrationKeyExpiresAt: info.registrationKey.expiresAt };
  },
  async remove(ctx, id) {
    // A vault directory removed by hand has no key left to revoke (and the embedded default would create one to ask).
    if (!usesEmbeddedDefault() || (await isVault(id))) await (await sameVault(ctx, id)).engine.revokeRegistrationKey();
    if (usesEmbeddedDefault()) await stopEmbeddedDaemon(id);
    tell(
      `the vault ${id} left the stack: its registration key is revoked (agents registered already keep their own tokens); the directory, with its catalog and recovery points, stays: remove it yourself to delete the data`,
    );
  },
};
