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
  vault
    .command("rotate-key")
    .description("issue a new registration key (valid 5 days); the old one stops working")
    .action(async (_opts, command: Command) => {
      const key = await withEngine(command, (engine) => engine.rotateRegistrationKey());
      print({ registrationKey: key }, wantsJson(command), () => `new registration key (shown once):\n  ${key}`);
    });
}
