import { promises as fs } from "node:fs";
import type { Command } from "commander";
import { wantsJson, withEngine } from "../context";
import { print, reportJob, table } from "../format";
import { impactText } from "../impact";
import { addRemoveCommand } from "../remove";
import type { PlanSpec, PlanSpecInput } from "../../schema";

const planText = (p: PlanSpec) =>
  [
    `plan ${p.name}`,
    ...p.groups.flatMap((g, i) => [
      `  group ${i + 1}: ${g.items.join(", ")}`,
      ...g.before.map(
        (a) => `    before: ${a.name} (${a.kind}${a.command ? `: ${a.command}` : ""}) for ${a.failoverTypes.join("/")} ${a.directions.join("/")}`,
      ),
      ...g.after.map((a) => `    after: ${a.name} (${a.kind}${a.command ? `: ${a.command}` : ""}) for ${a.failoverTypes.join("/")} ${a.directions.join("/")}`),
    ]),
  ].join("\n");

export function register(program: Command): void {
  const plan = program.command("plan").description("recovery plans: ordered groups of machines with actions");
  plan
    .command("add <name>")
    .description("add a plan from --group lists, or from a JSON file with groups and actions")
    .option("--group <items>", "comma-separated machines of one group (repeatable, in order)", (v: string, p: string[]) => [...p, v], [])
    .option("--file <json>", "a JSON file: { groups: [{ items, before: [actions], after: [actions] }] }")
    .action(async (name: string, opts: { group: string[]; file?: string }, command: Command) => {
      const fromFile = opts.file ? (JSON.parse(await fs.readFile(opts.file, "utf8")) as Record<string, unknown>) : {};
      const groups = opts.group.length
        ? opts.group.map((g) => ({
            items: g
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          }))
        : fromFile.groups;
      const spec = await withEngine(command, (e) => e.addPlan({ ...fromFile, name, groups } as PlanSpecInput));
      print(spec, wantsJson(command), () => `added ${planText(spec)}`);
    });
  plan
    .command("show <name>")
    .description("a plan's groups and actions")
    .action(async (name: string, _opts, command: Command) => {
      const spec = await withEngine(command, (e) => e.getPlan(name));
      print(spec, wantsJson(command), () => planText(spec));
    });
  plan
    .command("list")
    .description("list plans")
    .action(async (_opts, command: Command) => {
      const plans = await withEngine(command, (e) => e.listPlans());
      print(plans, wantsJson(command), () =>
        table([["NAME", "GROUPS", "MACHINES"], ...plans.map((p) => [p.name, p.groups.length, p.groups.reduce((n, g) => n + g.items.length, 0)])]),
      );
    });
  plan
    .command("run <name>")
    .description("test failover, failover or failback of the plan's machines, group by group")
    .requiredOption("--type <planned|unplanned|test>", "the kind of failover")
    .option("--direction <primary-to-recovery|recovery-to-primary>", "needed when some machines are already at the recovery site")
    .option("--point <option|id>", "recovery point option", "latest")
    .option("--shutdown-source", "unplanned: try to shut the sources down first")
    .option("--preview", "only show what the run would do, group by group: points, expected data loss, refusals")
    .action(async (name: string, opts: { type: string; direction?: string; point: string; shutdownSource?: boolean; preview?: boolean }, command: Command) => {
      const request = JSON.parse(
        JSON.stringify({ type: opts.type, direction: opts.direction, point: opts.point, shutdownSource: Boolean(opts.shutdownSource) }),
      );
      if (opts.preview) {
        const impact = await withEngine(command, (e) => e.planPreview(name, request));
        return print(impact, wantsJson(command), () => impactText(impact));
      }
      reportJob(await withEngine(command, (e) => e.runPlan(name, request)), wantsJson(command));
    });
  addRemoveCommand(
    plan,
    "remove a plan (its machines stay protected)",
    (e, name) => e.removePlan(name),
    (name) => `removed plan ${name}`,
  );
}
