import type { Command } from "commander";
import { wantsJson, withEngine } from "../context";
import { print, table } from "../format";
import { addRemoveCommand } from "../remove";
import type { SiteKind, SiteView } from "../../schema"; // --kind is checked by the engine's schema, which names the property

const collect = (value: string, previous: string[]) => [...previous, value];
const siteText = (s: SiteView) => `site ${s.name} (${s.kind})${s.path ? ` at ${s.path}` : ""}; hosts: ${s.hosts.join(", ") || "none"}`;

export function register(program: Command): void {
  const site = program.command("site").description("source and recovery sites");
  site
    .command("add <name>")
    .description("add a site: hyperv, vmm or physical (sources) or recovery")
    .requiredOption("--kind <kind>", "hyperv | vmm | physical | kvm | recovery")
    .option("--path <dir>", "recovery sites: where machines are materialized")
    .option("--host <name>", "a source host of the site (repeatable)", collect, [])
    .action(async (name: string, opts: { kind: SiteKind; path?: string; host: string[] }, command: Command) => {
      const view = await withEngine(command, (e) => e.addSite({ name, kind: opts.kind, path: opts.path, hosts: opts.host }));
      print(view, wantsJson(command), () => `added ${siteText(view)}`);
    });
  site
    .command("add-host <site> <host>")
    .description("add a source host to a site")
    .action(async (siteName: string, host: string, _opts, command: Command) => {
      const view = await withEngine(command, (e) => e.addHost(siteName, host));
      print(view, wantsJson(command), () => siteText(view));
    });
  addRemoveCommand(
    site,
    "remove a site and its hosts (refused while machines or networks use it)",
    (e, name) => e.removeSite(name),
    (name) => `removed site ${name}`,
  );
  site
    .command("list")
    .description("list sites")
    .action(async (_opts, command: Command) => {
      const sites = await withEngine(command, (e) => e.listSites());
      print(sites, wantsJson(command), () =>
        table([["NAME", "KIND", "PATH", "HOSTS"], ...sites.map((s) => [s.name, s.kind, s.path, s.hosts.join(",") || "-"])]),
      );
    });
}
