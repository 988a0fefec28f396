import type { Command } from "commander";
import { numberArg, wantsJson, withEngine } from "../context";
import { print, table } from "../format";
import { addRemoveCommand } from "../remove";
import type { PolicyView } from "../../engine/inventory/policies";

interface PolicyFlags {
  copyFrequency?: string;
  retentionHours?: number;
  appConsistentHours?: number;
  rpoThresholdMinutes?: number;
  initialReplicationStart?: string;
  resyncWindow?: string;
}

/** "18:00-08:00" → { start, end }; anything else is passed on as text for validation to name. */
const window = (value: string) => {
  const match = /^(\S+)-(\S+)$/.exec(value);
  return match ? { start: match[1], end: match[2] } : value;
};

function withPolicyFlags(command: Command): Command {
  return command
    .option("--copy-frequency <f>", "30s | 5m | 15m")
    .option("--retention-hours <h>", "recovery point retention, 0-72", numberArg)
    .option("--app-consistent-hours <h>", "app-consistent point frequency (0 = off; at most the retention)", numberArg)
    .option("--rpo-threshold-minutes <m>", "health turns Warning when the RPO exceeds this", numberArg)
    .option("--initial-replication-start <time>", "ISO date-time; default now")
    .option("--resync-window <from-to>", "local time window for resync, e.g. 18:00-08:00", window);
}

const policyText = (p: PolicyView) =>
  `policy ${p.name}: copy every ${p.copyFrequency}, keep ${p.retentionHours} h, app-consistent ${p.appConsistentHours ? `every ${p.appConsistentHours} h` : "off"}, RPO threshold ${p.rpoThresholdMinutes} min, resync ${p.resyncWindow.start}-${p.resyncWindow.end}${p.failbackOf ? ` (failback of ${p.failbackOf})` : ""}`;

const settings = (flags: PolicyFlags) => Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));

export function register(program: Command): void {
  const policy = program.command("policy").description("replication policies");
  withPolicyFlags(policy.command("add <name>").description("add a policy (and its failback policy <name>-failback)")).action(
    async (name: string, flags: PolicyFlags, command: Command) => {
      const result = await withEngine(command, (e) => e.addPolicy({ name, ...settings(flags) }));
      print(result, wantsJson(command), () => `added ${policyText(result.policy)}\nadded ${policyText(result.failback)}`);
    },
  );
  withPolicyFlags(policy.command("update <name>").description("change a policy; machines using it follow at once")).action(
    async (name: string, flags: PolicyFlags, command: Command) => {
      const view = await withEngine(command, (e) => e.updatePolicy(name, settings(flags)));
      print(view, wantsJson(command), () => `updated ${policyText(view)}`);
    },
  );
  addRemoveCommand(
    policy,
    "remove a policy and its failback policy (refused while machines use them)",
    (e, name) => e.removePolicy(name),
    (name) => `removed policy ${name} and ${name}-failback`,
  );
  policy
    .command("list")
    .description("list policies")
    .action(async (_opts, command: Command) => {
      const policies = await withEngine(command, (e) => e.listPolicies());
      print(policies, wantsJson(command), () =>
        table([
          ["NAME", "COPY", "RETENTION", "APP-CONSISTENT", "RPO-THRESHOLD", "RESYNC", "FAILBACK-OF"],
          ...policies.map((p) => [
            p.name,
            p.copyFrequency,
            `${p.retentionHours}h`,
            p.appConsistentHours ? `${p.appConsistentHours}h` : "off",
            `${p.rpoThresholdMinutes}m`,
            `${p.resyncWindow.start}-${p.resyncWindow.end}`,
            p.failbackOf,
          ]),
        ]),
      );
    });
}
