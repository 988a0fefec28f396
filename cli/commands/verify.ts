import type { Command } from "commander";
import type { JobView, VerifyPoints } from "../../schema"; // --points is checked by the engine's schema
import type { VerifyResult } from "../../engine/replication/verify";
import { numberArg, wantsJson, withEngine } from "../context";
import { bytes, jobText, print, reportJob, table } from "../format";

/** `lifeboat verify`: a scrub on demand. Exit 0 when every block read back intact, 1 when damage was found (or the run failed or stopped), 2 for bad input. */
export function register(program: Command): void {
  program
    .command("verify [name]")
    .description("read back every block the recovery points rely on and check its SHA-256 (a scrub); exit 1 when damage is found")
    .option("--points <all|latest>", "every point held, or each machine's latest", "all")
    .option("--rate-limit <MiB/s>", "read at most this many MiB per second (default: as fast as the store reads)", numberArg)
    .action(async (name: string | undefined, opts: { points: VerifyPoints; rateLimit?: number }, command: Command) => {
      const request = {
        ...(name === undefined ? {} : { item: name }),
        points: opts.points,
        ...(opts.rateLimit === undefined ? {} : { rateLimitMiBps: opts.rateLimit }),
      };
      const job = await withEngine(command, (e) => e.verify(request));
      const json = wantsJson(command);
      if (job.state === "Failed") return reportJob(job, json);
      print(job, json, () => verifyText(job));
      const result = job.result as VerifyResult;
      if (result.damaged.length || result.damagedBlocks) {
        process.stderr.write(
          `damage found: ${result.damagedBlocks} damaged block(s) this run; ${result.damaged.length} recovery point(s) cannot be restored\n`,
        );
        process.exitCode = 1;
      } else if (job.state !== "Succeeded") {
        process.stderr.write(
          `error: verify ${job.state.toLowerCase()} (${result.stopped ?? "stopped"}) after ${result.blocksChecked} block(s); nothing damaged so far\n`,
        );
        process.exitCode = 1;
      }
    });
}

function verifyText(job: JobView): string {
  const r = job.result as VerifyResult;
  const lines = [
    jobText(job),
    `verified ${r.pointsChecked} point(s): ${r.blocksChecked} block(s) (${bytes(r.bytesChecked)}) and ${r.chunksChecked} manifest chunk(s) read back; ${r.damagedBlocks} damaged`,
  ];
  if (r.damaged.length) {
    lines.push(
      table([
        ["DAMAGED-POINT", "ITEM", "CAPTURED", "LATEST", "DISKS"],
        ...r.damaged.map((d) => [d.point, d.item, d.capturedAt, d.latest ? "yes" : "no", d.disks.map((x) => `${x.disk}: ${x.blocks} block(s)`).join(", ")]),
      ]),
    );
  }
  for (const f of r.findings) lines.push(`  ${f.reason}`);
  return lines.join("\n");
}
