import * as path from "node:path";
import type { Command } from "commander";
import { Engine } from "../../engine";
import { vaultDir, wantsJson, withEngine } from "../context";
import { print } from "../format";

export function register(program: Command): void {
  const vault = program.command("vault").description("create a vault and manage its registration key");
  vault
    .command("init [dir]")
    .description("create a vault in an empty or new directory (default: --vault)")
    .action(async (dir: string | undefined, _opts, command: Command) => {
      const target = dir ? path.resolve(dir) : vaultDir(command);
      const { engine, registrationKey } = await Engine.init(target);
      const state = await engine.vault.registrationKeyState();
      await engine.close();
      print({ dir: target, registrationKey, expiresAt: state.expiresAt }, wantsJson(command), () =>
        [`vault created at ${target}`, `registration key (shown once; valid until ${state.expiresAt}):`, `  ${registrationKey}`].join("\n"),
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
      const value = await withEngine(command, (e) => e.createToken(name, opts.role as "admin" | "agent", opts.days ? Math.round(Number(opts.days) * 86_400_000) : undefined));
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
