import * as path from "node:path";
import type { Command } from "commander";
import { Agent } from "../../agent/agent";
import { print, table } from "../format";
import { numberArg, withEngine, wantsJson } from "../context";

/** The agent of a source host, and what operators do about hosts: move a machine, revoke the registration key. */
export function register(program: Command): void {
  program
    .command("agent")
    .description("run the agent of a source host: read its machines' disks, write blocks to the store, report to the engine")
    .requiredOption("--engine <url>", "the engine daemon's API")
    .requiredOption("--host <name>", "this host's name in its site")
    .option("--site <name>", "the site to register the host in (when the host is new)")
    .option("--registration-key <key>", "the vault's registration key (first start only; default: $LIFEBOAT_REGISTRATION_KEY)")
    .option("--work-dir <dir>", "where the agent keeps its identity", ".lifeboat-agent")
    .option("--store <dir>", "the vault's block store as mounted here (default: the engine's path)")
    .option("--poll-ms <ms>", "call in this often (default: the engine's heartbeat interval)", numberArg)
    .option("--once", "call in once, do what is due, and exit")
    .action(
      async (opts: {
        engine: string;
        host: string;
        site?: string;
        registrationKey?: string;
        workDir: string;
        store?: string;
        pollMs?: number;
        once?: boolean;
      }) => {
        const agent = await Agent.start({
          engine: opts.engine,
          host: opts.host,
          site: opts.site,
          registrationKey: opts.registrationKey ?? process.env.LIFEBOAT_REGISTRATION_KEY,
          workDir: path.resolve(opts.workDir),
          storeDir: opts.store && path.resolve(opts.store),
          pollMs: typeof opts.pollMs === "number" ? opts.pollMs : undefined,
          log,
        });
        if (opts.once) return void (await agent.once());
        process.once("SIGINT", () => agent.stop());
        process.once("SIGTERM", () => agent.stop());
        log(`agent of host ${agent.host} calling ${opts.engine} (pid ${process.pid})`);
        await agent.run();
        log("stopped");
      },
    );

  program
    .command("move <name>")
    .description("move a machine to another host of its site; replication carries on without a new initial replication")
    .requiredOption("--host <name>", "the host it runs on now")
    .option("--disk-path <disk=path>", "a disk's path on the new host (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .action(async (name: string, opts: { host: string; diskPath: string[] }, command: Command) => {
      const diskPaths = opts.diskPath.length
        ? Object.fromEntries(opts.diskPath.map((d) => [d.slice(0, d.indexOf("=")), d.slice(d.indexOf("=") + 1)]))
        : undefined;
      const item = await withEngine(command, (e) => e.moveItem(name, { host: opts.host, diskPaths }));
      print(item, wantsJson(command), () =>
        table([
          ["NAME", "HOST", "STATE", "DISKS"],
          [item.name, item.host, item.state, item.disks.map((d) => `${d.name}=${d.path}`).join(" ")],
        ]),
      );
    });
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
