import * as path from "node:path";
import type { Command } from "commander";
import { Engine } from "../engine";

export interface GlobalOptions {
  vault: string;
  json?: boolean;
}

/** The vault a command acts on: --vault, else $LIFEBOAT_VAULT, else ./.lifeboat. */
export function vaultDir(command: Command): string {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return path.resolve(opts.vault ?? process.env.LIFEBOAT_VAULT ?? ".lifeboat");
}

export function wantsJson(command: Command): boolean {
  return Boolean(command.optsWithGlobals<GlobalOptions>().json);
}

/** Open the vault, run the body, always close. */
export async function withEngine<T>(command: Command, body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open(vaultDir(command));
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

/** Commander option parser for numbers: a non-number is passed on as text so validation names the field. */
export const numberArg = (value: string): number | string => (value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value);
