import * as path from "node:path";
import { z } from "zod";
import { fields, type Context, type KindDefinition } from "../resource";
import { isVault, stopEmbeddedDaemon, usesEmbeddedDefault } from "../connection";

const VaultSpec = z.strictObject({
  /** The vault directory; made absolute where the program runs, as every hook after resolves it. */
  path: z.string().min(1, "must name the vault directory").transform((p) => path.resolve(p)),
});

/** The engine must serve this very vault: a configured endpoint may belong to another. */
async function sameVault(ctx: Context, dir: string) {
  const { engine, endpoint } = await ctx.connection();
  const info = await engine.vaultInfo();
  if (path.resolve(info.dir) !== dir) throw new Error(`the engine at ${endpoint} serves the vault ${info.dir}, not ${dir}`);
  return { engine, endpoint, info };
}

/**
 * A vault: a directory with the catalog and block store, served by a daemon (the embedded default
 * starts one). Create issues a fresh registration key for agents (a secret output, valid 5 days).
 * Delete keeps the directory and its recovery data (removing those is left to a person) and stops the
 * vault's daemon if the provider started it.
 */
export const vault: KindDefinition = {
  schema: VaultSpec,
  inVault: false,
  identity: fields("path"),
  observed: ["endpoint", "registrationKey", "registrationKeyExpiresAt"],
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
  async remove(_ctx, id) {
    if (usesEmbeddedDefault()) await stopEmbeddedDaemon(id);
  },
};
