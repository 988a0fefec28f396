import type { Command } from "commander";
import { numberArg, withEngine } from "../context";

/** The daemon: runs the scheduler (copy frequency, resync windows, retention) until SIGINT or SIGTERM. */
export function register(program: Command): void {
  program
    .command("serve")
    .description("run the engine daemon: replicate on each policy's copy frequency")
    .option("--tick-ms <ms>", "how often the scheduler looks for due work", numberArg, 1000)
    .action(async (opts: { tickMs: number }, command: Command) => {
      await withEngine(command, async (engine) => {
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
            const report = await engine.tick();
            for (const name of report.initialReplications) log(`initial replication of ${name}`);
            for (const name of report.resyncs) log(`resync of ${name}`);
            if (report.replicated.length) log(`replicated ${report.replicated.join(", ")}`);
            for (const f of report.failed) log(`replication of ${f.item} failed (${f.code}): ${f.message}`);
            if (report.retention?.pointsDeleted) log(`retention deleted ${report.retention.pointsDeleted} point(s), freed ${report.retention.bytesFreed} bytes`);
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
        log("stopped");
      });
    });
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
