import * as path from "node:path";
import type { Command } from "commander";
import { Engine } from "../../engine";
import { ValidationError } from "../../schema";
import { keyFlags, vaultDir, wantsJson, withEngine, withLocalEngine } from "../context";
import { print } from "../format";

export function register(program: Command): void {
  const vault = program.command("vault").description("create a vault and manage its registration key");
  vault
    .command("init [dir]")
    .description(
      "create a vault in an empty or new directory (default: --vault); its data is encrypted at rest with a key made now, wrapped by the key-encryption key (--key-file, made when missing; --key-command; $LIFEBOAT_VAULT_KEY)",
    )
    .action(async (dir: string | undefined, _opts, command: Command) => {
      const target = dir ? path.resolve(dir) : vaultDir(command);
      const { engine, registrationKey } = await Engine.init(target, { key: keyFlags(command) });
      const state = await engine.vault.registrationKeyState();
      const { encryption } = engine.vault;
      await engine.close();
      print({ dir: target, registrationKey, expiresAt: state.expiresAt, encryption }, wantsJson(command), () =>
        [
          `vault created at ${target}`,
          `encrypted at rest (AES-256-GCM); key-encryption key: ${encryption.key}`,
          "  keep a copy of that key apart from the vault: without it the vault cannot be read",
          `registration key (shown once; valid until ${state.expiresAt}):`,
          `  ${registrationKey}`,
        ].join("\n"),
      );
    });
  const token = program.command("token").description("bearer tokens for the engine service");
  token
    .command("create <name>")
    .description("issue a token (shown once; only its hash is kept)")
    .option("--role <admin|agent>", "what it may do", "admin")
    .option("--days <n>", "expires after this many days (default: never)")
    .action(async (name: string, opts: { role: string; days?: string }, command: Command) => {
      if (opts.role !== "admin" && opts.role !== "agent") throw new Error("--role must be admin or agent");
      const value = await withEngine(command, (e) =>
        e.createToken(name, opts.role as "admin" | "agent", opts.days ? Math.round(Number(opts.days) * 86_400_000) : undefined),
      );
      print({ name, token: value }, wantsJson(command), () => `token ${name} (shown once):\n  ${value}`);
    });
  token
    .command("revoke <name>")
    .description("stop a token from working")
    .action(async (name: string, _opts, command: Command) => {
      await withEngine(command, (e) => e.revokeToken(name));
      print({ name, revoked: true }, wantsJson(command), () => `token ${name} revoked`);
    });
  vault
    .command("change-key")
    .description(
      "wrap the vault's data key with another key-encryption key (the current one from --key-file, --key-command or the environment); the old key opens the vault no more; nothing stored is rewritten",
    )
    .option("--new-key-file <file>", "the new key-encryption key's file (made, 0600, when missing)")
    .option("--new-key-command <command>", "a shell command that prints the new key-encryption key")
    .action(async (opts: { newKeyFile?: string; newKeyCommand?: string }, command: Command) => {
      if ((opts.newKeyFile === undefined) === (opts.newKeyCommand === undefined))
        throw ValidationError.refused("newKeyFile", "give the new key with --new-key-file or --new-key-command (one of them)");
      const encryption = await withLocalEngine(command, (engine) => engine.changeKey({ keyFile: opts.newKeyFile, keyCommand: opts.newKeyCommand }));
      print(
        { encryption },
        wantsJson(command),
        () => `the vault's data key is now wrapped by the ${encryption.key}; the old key opens it no more (keep the new one apart from the vault)`,
      );
    });
  vault
    .command("rotate-key")
    .description("issue a new registration key (valid 5 days); the old one stops working")
    .action(async (_opts, command: Command) => {
      const key = await withEngine(command, (engine) => engine.rotateRegistrationKey());
      print({ registrationKey: key }, wantsJson(command), () => `new registration key (shown once):\n  ${key}`);
    });
  vault
    .command("revoke-key")
    .description("revoke the registration key: agents can no longer register with it (registered agents keep working)")
    .action(async (_opts, command: Command) => {
      await withEngine(command, (engine) => engine.revokeRegistrationKey());
      print({ revoked: true }, wantsJson(command), () => "registration key revoked");
    });
}
