#!/usr/bin/env node
import { Command } from "commander";
import { reportError } from "./errors";
import { register as vault } from "./commands/vault";
import { register as site } from "./commands/site";
import { register as policy } from "./commands/policy";
import { register as replication } from "./commands/replication";
import { register as status } from "./commands/status";
import { register as serve } from "./commands/serve";
import { register as plan } from "./commands/plan";
import { register as failover, registerReverse as failback } from "./commands/failover";
import { register as agent } from "./commands/agent";
import { register as verify } from "./commands/verify";

export function buildProgram(): Command {
  const program = new Command("lifeboat")
    .description("Lifeboat: disaster recovery for machines")
    .option("--vault <dir>", "vault directory (default: $LIFEBOAT_VAULT, else ./.lifeboat)")
    .option("--json", "machine-readable output")
    .option("--endpoint <url>", "act through a daemon's API (default: $LIFEBOAT_ENDPOINT; else on the vault directly)")
    .option("--token <token>", "bearer token for --endpoint (default: $LIFEBOAT_TOKEN, or the daemon's admin.token beside the vault)")
    .option("--key-file <file>", "the vault's key-encryption key, a 0600 file (default: $LIFEBOAT_KEY_FILE, else ~/.config/lifeboat/keys/<vault id>.key)")
    .option("--key-command <command>", "a shell command that prints the key-encryption key, e.g. from a KMS (default: $LIFEBOAT_KEY_COMMAND)")
    .showHelpAfterError()
    .enablePositionalOptions(false);
  for (const register of [vault, site, policy, replication, verify, failover, failback, plan, status, serve, agent]) register(program);
  return program;
}

if (require.main === module) {
  const json = process.argv.includes("--json");
  buildProgram()
    .parseAsync(process.argv)
    .catch((error) => {
      process.exitCode = reportError(error, json);
    });
}
