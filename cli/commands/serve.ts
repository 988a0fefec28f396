import type { Command } from "commander";
import { numberArg, withLocalEngine } from "../context";
import * as path from "node:path";
import { LOCAL_TOKEN_FILE } from "../../engine/server/daemon-files";
import { CycleSettings, durationMs, parse, VerifySchedule } from "../../schema";
import type { TickOptions, UnitReport } from "../../engine/replication/scheduler";

/** The daemon: runs the scheduler (copy frequency, resync windows, retention, verify) until SIGINT or SIGTERM. */
export function register(program: Command): void {
  program
    .command("serve")
    .description("run the engine daemon: replicate on each policy's copy frequency")
    .option("--tick-ms <ms>", "how often the scheduler looks for due work", numberArg, 1000)
    .option("--host <address>", "address of the HTTP API (other than loopback needs TLS)", "127.0.0.1")
    .option("--port <port>", "port of the HTTP API (0: any free port)", numberArg, 7180)
    .option("--tls-cert <file>", "TLS certificate (PEM)")
    .option("--tls-key <file>", "TLS private key (PEM)")
    .option(
      "--allow-path <dir>",
      "paths in API requests must lie here (repeatable; default: the directory holding the vault)",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option("--no-api", "run the scheduler only")
    .option("--verify-interval <duration>", "verify (scrub) the whole vault this often, e.g. 7d, 12h; off: only after a full store", "7d")
    .option("--verify-rate-limit <MiB/s>", "a scheduled verify reads at most this many MiB per second (0: unthrottled)", numberArg, 64)
    .option("--max-cycles <n>", "replication cycles (of different machines) that run at once", numberArg, 4)
    .option("--cycle-deadline <duration>", "a cycle still reading after this long is abandoned as failed, e.g. 30m, 90s", "30m")
    .action(
      async (
        opts: {
          tickMs: number;
          host: string;
          port: number;
          tlsCert?: string;
          tlsKey?: string;
          allowPath: string[];
          api: boolean;
          verifyInterval: string;
          verifyRateLimit: number;
          maxCycles: number;
          cycleDeadline: string;
        },
        command: Command,
      ) => {
        const schedule = parse(VerifySchedule, { verifyInterval: opts.verifyInterval, verifyRateLimit: opts.verifyRateLimit }, "serve options");
        const cycles = parse(CycleSettings, { maxCycles: opts.maxCycles, cycleDeadline: opts.cycleDeadline }, "serve options");
        // Cycles run on in the background; each is logged when it ends.
        const tickOptions: TickOptions = {
          verifyIntervalMs: schedule.verifyInterval === "off" ? null : durationMs(schedule.verifyInterval),
          verifyRateLimitMiBps: schedule.verifyRateLimit,
          maxCycles: cycles.maxCycles,
          cycleDeadlineMs: durationMs(cycles.cycleDeadline),
          background: true,
          onSettled: logUnit,
        };
        // The HTTP server (fastify) loads only here: every other command starts without it.
        const { listen } = require("../../engine/server/listen") as typeof import("../../engine/server/listen");
        const { dashboardLine } = require("../../engine/server/dashboard/announce") as typeof import("../../engine/server/dashboard/announce");
        await withLocalEngine(command, async (engine) => {
          const server = opts.api
            ? await listen(engine, { host: opts.host, port: Number(opts.port), tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, allowedPaths: opts.allowPath })
            : undefined;
          if (server) log(`API at ${server.url}${server.tokenFile ? `; an admin token was written to ${server.tokenFile}` : ""}`);
          // The admin token goes into the printed URL only on a terminal, never into a log (see dashboardLine).
          if (server) log(await dashboardLine(server.url, path.join(engine.vault.dir, LOCAL_TOKEN_FILE), process.stdout.isTTY === true));
          let stopping = false;
          let wake: () => void = () => undefined;
          const stop = () => {
            stopping = true;
            wake();
          };
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
          log(`serving vault ${engine.vault.dir} (pid ${process.pid})`);
          while (!stopping) {
            try {
              const report = await engine.tick(tickOptions);
              if (report.retention?.pointsDeleted)
                log(`retention deleted ${report.retention.pointsDeleted} point(s), freed ${report.retention.bytesFreed} bytes`);
              if (report.verify) log(`verify of the vault started (${report.verify.reason}): job ${report.verify.job}`);
            } catch (error) {
              log(`scheduler error: ${error instanceof Error ? error.message : String(error)}`);
            }
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Number(opts.tickMs) || 1000);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
          await engine.stopCycles();
          await server?.app.close();
          log("stopped");
        });
      },
    );
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function logUnit(report: UnitReport): void {
  for (const name of report.initialReplications) log(`initial replication of ${name}`);
  for (const name of report.resyncs) log(`resync of ${name}`);
  if (report.replicated.length) log(`replicated ${report.replicated.join(", ")}`);
  for (const f of report.failed) log(`replication of ${f.item} failed (${f.code}): ${f.message}`);
  for (const s of report.skipped) log(`window of ${s.item} not recorded: ${s.reason}`);
}
