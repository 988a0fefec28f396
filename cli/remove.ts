import type { Command } from "commander";
import type { EngineApi } from "../client/engine-client";
import { wantsJson, withEngine } from "./context";
import { print } from "./format";

/** `<group> remove <name>`: one removal through the engine, refused (409) while something still uses the object. */
export function addRemoveCommand(
  group: Command,
  description: string,
  remove: (engine: EngineApi, name: string) => Promise<{ deleted: string }>,
  said: (name: string) => string,
): void {
  group
    .command("remove <name>")
    .description(description)
    .action(async (name: string, _opts, command: Command) => {
      const result = await withEngine(command, (e) => remove(e, name));
      print(result, wantsJson(command), () => said(name));
    });
}
