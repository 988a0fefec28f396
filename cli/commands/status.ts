import type { Command } from "commander";
import { numberArg, wantsJson, withEngine } from "../context";
import { bytes, duration, jobText, print, reportJob, table } from "../format";
import { ProgressView } from "../progress";
import type { ItemStatus } from "../../schema";

type DiskStatus = ItemStatus["disks"][number];

/** Where a disk is read and how its changes are found. */
const diskText = (d: DiskStatus, qmp: string | null) =>
  d.tracking === "dirty-bitmap"
    ? `block node ${d.path} of the QEMU at ${qmp}, tracked by dirty bitmap (checkpoint ${d.checkpoint ?? "none yet: the next cycle reads it whole"})`
    : `${d.path}, scanned each cycle`;

export function register(program: Command): void {
  program
    .command("status [name]")
    .description("health, RPO and protection state of the protected machines")
    .action(async (name: string | undefined, _opts, command: Command) => {
      const json = wantsJson(command);
      if (name) {
        const item = await withEngine(command, (e) => e.item(name));
        print(item, json, () =>
          [
            `${item.name}: ${item.state}, health ${item.health}, RPO ${duration(item.rpoSeconds)} (threshold ${duration(item.rpoThresholdSeconds)}), ${item.points} point(s)`,
            ...item.healthErrors.map((e) => `  ${e.code}: ${e.message}`),
            ...item.disks.map((d) => `  disk ${d.name}${d.excluded ? " (excluded)" : ""}: ${diskText(d, item.qmp)}`),
            ...(item.history.length ? ["history (newest first):", ...item.history.slice(0, 5).map((e) => `  ${e.at} ${e.code}: ${e.message}`)] : []),
          ].join("\n"),
        );
        return;
      }
      const status = await withEngine(command, (e) => e.status());
      print(status, json, () =>
        [
          `vault ${status.vault.dir}: ${status.vault.store.blocks} blocks, ${bytes(status.vault.store.storedBytes)} stored (${status.vault.encryption.cipher === "none" ? "UNENCRYPTED" : `encrypted, ${status.vault.encryption.cipher}`}), ${bytes(status.vault.store.unreferencedBytes)} unreferenced (garbage collection reclaims it); registration key ${keyText(status.vault.registrationKey)}`,
          table([
            ["NAME", "HOST", "STATE", "HEALTH", "RPO", "POINTS", "LATEST", "ERRORS"],
            ...status.items.map((i) => [
              i.name,
              hostText(i),
              i.state,
              i.health,
              duration(i.rpoSeconds),
              i.points,
              i.latestPoint?.capturedAt ?? null,
              i.healthErrors.map((e) => e.code).join(",") || "-",
            ]),
          ]),
        ].join("\n"),
      );
    });

  const jobs = program.command("jobs").description("operations and their task trees");
  jobs
    .command("list", { isDefault: true })
    .description("recent jobs, newest first")
    .option("--target <name>", "only jobs of this machine")
    .option("--limit <n>", "how many", numberArg, 20)
    .action(async (opts: { target?: string; limit: number }, command: Command) => {
      const list = await withEngine(command, (e) => e.jobs({ target: opts.target, limit: Number(opts.limit) || 20 }));
      print(list, wantsJson(command), () =>
        table([
          ["ID", "TYPE", "TARGET", "STATE", "CREATED", "DURATION-MS", "ERROR"],
          ...list.map((j) => [j.id, j.type, j.target, j.state, j.createdAt, j.durationMs, j.error?.code ?? null]),
        ]),
      );
    });
  jobs
    .command("watch <id>")
    .description("follow a job until it ends (or waits for a manual action)")
    .action(async (id: string, _opts, command: Command) => {
      const progress = wantsJson(command) ? undefined : new ProgressView();
      const job = await withEngine(command, async (e) => {
        for (;;) {
          const current = await e.job(id);
          progress?.update(current);
          if (["Succeeded", "Failed", "Cancelled", "Suspended"].includes(current.state)) return current;
          await new Promise((r) => setTimeout(r, 250));
        }
      });
      progress?.done();
      reportJob(job, wantsJson(command));
    });
  jobs
    .command("resume <id>")
    .description("carry on with a recovery plan job waiting for a manual action")
    .action(async (id: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.resumeJob(id)), wantsJson(command));
    });
  jobs
    .command("show <id>")
    .description("one job with its task tree")
    .action(async (id: string, _opts, command: Command) => {
      const job = await withEngine(command, (e) => e.job(id));
      print(job, wantsJson(command), () => jobText(job));
    });
}

/** The host a machine runs on, and whether an agent reads it ("agent") or the engine does. */
const hostText = (i: { host: string | null; agent: { silent: boolean } | null }) =>
  i.host ? `${i.host}${i.agent ? (i.agent.silent ? " (agent silent)" : " (agent)") : ""}` : "-";

const keyText = (key: { expired: boolean; expiresAt: string; revokedAt: string | null }) =>
  key.revokedAt ? `REVOKED at ${key.revokedAt}` : key.expired ? "EXPIRED" : `valid until ${key.expiresAt}`;
