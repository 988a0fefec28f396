import type { Command } from "commander";
// Flag values are typed as the schema expects; the engine validates them and names the property when they are not.
import type { FailoverRequest } from "../../schema";
import { wantsJson, withEngine } from "../context";
import { print, reportJob, table } from "../format";
import { impactText } from "../impact";

export function register(program: Command): void {
  const network = program.command("network").description("networks at recovery sites");
  network
    .command("add <name>")
    .description("add a recovery network")
    .requiredOption("--site <site>", "the recovery site")
    .requiredOption("--subnet <cidr>", "a subnet (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .action(async (name: string, opts: { site: string; subnet: string[] }, command: Command) => {
      const view = await withEngine(command, (e) => e.addNetwork({ name, site: opts.site, subnets: opts.subnet }));
      print(view, wantsJson(command), () => `added network ${view.name} at ${view.site}: ${view.subnets.join(", ")}`);
    });
  network
    .command("list")
    .description("list recovery networks")
    .action(async (_opts, command: Command) => {
      const list = await withEngine(command, (e) => e.listNetworks());
      print(list, wantsJson(command), () => table([["NAME", "SITE", "SUBNETS"], ...list.map((n) => [n.name, n.site, n.subnets.join(",")])]));
    });

  const mapping = program.command("network-map").description("source network → recovery network defaults");
  mapping
    .command("add <source> <target>")
    .description("machines on the source network fail over to the target network")
    .action(async (source: string, target: string, _opts, command: Command) => {
      const view = await withEngine(command, (e) => e.addNetworkMapping({ source, target }));
      print(view, wantsJson(command), () => `mapped ${view.source} → ${view.target}`);
    });
  mapping
    .command("list")
    .description("list network mappings")
    .action(async (_opts, command: Command) => {
      const list = await withEngine(command, (e) => e.listNetworkMappings());
      print(list, wantsJson(command), () => table([["SOURCE", "TARGET"], ...list.map((m) => [m.source, m.target])]));
    });

  const drill = program
    .command("drill")
    .description("test failover (drill) and its cleanup")
    .argument("[name]", "the machine")
    .option(
      "--point <option|id>",
      "latest | latest-processed | latest-app-consistent | latest-multivm-processed | latest-multivm-app-consistent | a point id",
      "latest",
    )
    .action(async (name: string | undefined, opts: { point: string }, command: Command) => {
      if (!name) return command.help({ error: true });
      reportJob(await withEngine(command, (e) => e.drill(name, opts.point)), wantsJson(command));
    });
  drill
    .command("cleanup <name>")
    .description("remove what the drill created and record notes")
    .option("--notes <text>", "what the drill showed")
    .action(async (name: string, opts: { notes?: string }, command: Command) => {
      reportJob(await withEngine(command, (e) => e.drillCleanup(name, opts.notes)), wantsJson(command));
    });

  program
    .command("failover <name>")
    .description("fail a machine over to its recovery site")
    .requiredOption("--type <planned|unplanned>", "planned: shut down, sync, no data lost; unplanned: from a recovery point")
    .option("--point <option|id>", "recovery point option or id (unplanned)", "latest")
    .option("--shutdown-source", "unplanned: try to shut the source down first")
    .option("--preview", "only show what it would do: the point, the expected data loss, or why it would be refused")
    .option("--direction <primary-to-recovery|recovery-to-primary>", "--preview: which way (default: away from where the machine runs)")
    .action(
      async (
        name: string,
        opts: { type: FailoverRequest["type"]; point: string; shutdownSource?: boolean; preview?: boolean; direction?: string },
        command: Command,
      ) => {
        const request = { type: opts.type, point: opts.point, shutdownSource: Boolean(opts.shutdownSource) };
        if (opts.preview) {
          const impact = await withEngine(command, (e) => e.failoverPreview(name, JSON.parse(JSON.stringify({ ...request, direction: opts.direction }))));
          return print(impact, wantsJson(command), () => impactText(impact));
        }
        if (opts.direction) throw new Error("--direction goes with --preview (a failback is 'lifeboat failback')");
        reportJob(await withEngine(command, (e) => e.failover(name, request)), wantsJson(command));
      },
    );

  program
    .command("change-point <name>")
    .description("after a failover and before commit: bring the machine up from another point")
    .requiredOption("--point <option|id>", "recovery point option or id")
    .action(async (name: string, opts: { point: string }, command: Command) => {
      reportJob(await withEngine(command, (e) => e.changeRecoveryPoint(name, opts.point)), wantsJson(command));
    });

  program
    .command("commit <name>")
    .description("commit a failover: deletes the machine's recovery points")
    .action(async (name: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.commit(name)), wantsJson(command));
    });

  program
    .command("cancel <job>")
    .description("cancel a running failover or drill before its start task")
    .action(async (job: string, _opts, command: Command) => {
      // A job whose process is gone is ended at once; a running one stops itself before its start task.
      const state = (
        await withEngine(command, async (e) => {
          await e.cancel(job);
          return e.job(job);
        })
      ).state;
      print({ job, cancelRequested: true, state }, wantsJson(command), () =>
        state === "InProgress" ? `cancel requested for ${job}` : `job ${job} is ${state}`,
      );
    });
}

export function registerReverse(program: Command): void {
  program
    .command("reprotect <name>")
    .description("after a committed failover: replicate the recovery machine back (after a committed failback: the other way round again)")
    .action(async (name: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.reprotect(name)), wantsJson(command));
    });

  program
    .command("failback <name>")
    .description("planned failover from the recovery site back to the primary")
    .option("--original", "to the machine's own disks, by delta (the default)")
    .option("--alternate <dir>", "to new disks in another directory (full download)")
    .option("--full-download", "original location: write every block, not only the differing ones")
    .action(async (name: string, opts: { original?: boolean; alternate?: string; fullDownload?: boolean }, command: Command) => {
      const request = { location: opts.alternate ? "alternate" : "original", alternateDir: opts.alternate, fullDownload: Boolean(opts.fullDownload) };
      if (opts.original && opts.alternate) throw new Error("choose --original or --alternate, not both");
      reportJob(await withEngine(command, (e) => e.failback(name, JSON.parse(JSON.stringify(request)))), wantsJson(command));
    });

  program
    .command("migrate <name>")
    .description("complete a migration after a failover: the machine stays at the recovery site, unprotected")
    .action(async (name: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.completeMigration(name)), wantsJson(command));
    });
}
