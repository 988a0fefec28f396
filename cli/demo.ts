import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import Database from "better-sqlite3";
import { Engine } from "../engine";
import { bytes, duration, table } from "./format";

/**
 * `npm run demo`: a machine whose two disks (a SQLite database and its write-ahead log) are written by a
 * live workload is protected in a fresh vault under ./.lifeboat-demo, replicated for several cycles with
 * crash-consistent captures (the workload is paused for each), then its latest point is materialized
 * and opened as a database to show the data came back intact.
 */
const ROOT = path.resolve(".lifeboat-demo");
const WORKLOAD = path.resolve(__dirname, "..", "..", "test", "fixtures", "sqlite-workload.js");
const CYCLES = 6;
const CYCLE_GAP_MS = 2000;
/** About 4 MB/s of committed rows: a busy database, but a light demo. */
const ROWS_PER_SECOND = 2000;

async function main(): Promise<void> {
  await fs.rm(ROOT, { recursive: true, force: true });
  const machineDir = path.join(ROOT, "machine");
  await fs.mkdir(machineDir, { recursive: true });
  const dbFile = path.join(machineDir, "app.db");

  say(`starting the workload: a SQLite database in WAL mode at ${dbFile}`);
  const workload = spawn(process.execPath, [WORKLOAD, dbFile, String(ROWS_PER_SECOND)], { stdio: ["ignore", "pipe", "inherit"] });
  let committed = 0;
  const lines = readline.createInterface({ input: workload.stdout! });
  const ready = new Promise<void>((resolve) =>
    lines.on("line", (line) => (line === "ready" ? resolve() : (committed = Number(line.split(" ")[1]) || committed))),
  );
  try {
    await ready;
    await sleep(300);
    const { engine, registrationKey } = await Engine.init(path.join(ROOT, "vault"));
    say(`vault created at ${engine.vault.dir} (registration key ${registrationKey.slice(0, 6)}…, valid 5 days)`);
    await engine.addSite({ name: "hq", kind: "hyperv", hosts: ["hv01"] });
    await engine.addPolicy({ name: "gold", copyFrequency: "30s", retentionHours: 24, rpoThresholdMinutes: 5 });
    const protect = await engine.protect({
      name: "shop-db",
      site: "hq",
      host: "hv01",
      policy: "gold",
      disks: [
        { name: "app.db", path: dbFile, os: true },
        { name: "app.db-wal", path: `${dbFile}-wal` },
      ],
      hooks: { pause: `kill -STOP ${workload.pid}`, resume: `kill -CONT ${workload.pid}` },
    });
    if (protect.state !== "Succeeded") throw new Error(`protection failed: ${protect.error?.message}`);
    say(`protected shop-db: initial replication and first recovery point in ${protect.durationMs} ms`);

    let committedAtLastCapture = 0;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      await sleep(CYCLE_GAP_MS);
      const before = committed;
      committedAtLastCapture = before;
      const job = await engine.replicateNow("shop-db");
      if (job.state !== "Succeeded") throw new Error(`cycle ${cycle} failed: ${job.error?.message}`);
      const [point] = (job.result as { points: Array<{ id: string; blocksChanged: number; bytesStored: number }> }).points;
      say(
        `cycle ${cycle}: ${point.id}  ${point.blocksChanged} changed blocks, ${bytes(point.bytesStored)} stored, ≥ ${before} rows committed at capture (${job.durationMs} ms)`,
      );
    }

    const points = await engine.points("shop-db");
    say("\nrecovery points:");
    say(
      table([
        ["ID", "CAPTURED", "KIND", "CHANGED-BLOCKS", "STORED"],
        ...points.map((p) => [p.id, p.capturedAt, p.kind, p.blocksChanged, bytes(p.bytesStored)]),
      ]),
    );
    const status = await engine.status();
    const item = status.items[0];
    const logical = points.reduce((sum, p) => sum + p.disks.reduce((s, d) => s + d.size, 0), 0);
    say(`\nshop-db: ${item.state}, health ${item.health}, RPO ${duration(item.rpoSeconds)} (threshold ${duration(item.rpoThresholdSeconds)})`);
    say(
      `vault: ${status.vault.store.blocks} blocks, ${bytes(status.vault.store.storedBytes)} stored for ${points.length} points covering ${bytes(logical)} of disk images`,
    );

    const restore = path.join(ROOT, "restore");
    const m = await engine.materialize("shop-db", "latest", restore);
    if (m.state !== "Succeeded") throw new Error(`materialize failed: ${m.error?.message}`);
    const copy = new Database(path.join(restore, "app.db"));
    const integrity = copy.pragma("integrity_check", { simple: true });
    const rows = (copy.prepare("select count(*) as n from rows").get() as { n: number }).n;
    copy.close();
    say(
      `\nmaterialized the latest point into ${restore}: integrity_check = ${integrity}, ${rows} rows; the workload had committed ${committedAtLastCapture} rows before that point's capture paused it`,
    );
    if (rows < committedAtLastCapture) throw new Error("the restored database lacks rows committed before its capture");
    await engine.close();
    if (integrity !== "ok") throw new Error("the restored database failed its integrity check");
    say(`\ntry: npx lifeboat --vault ${path.relative(process.cwd(), path.join(ROOT, "vault"))} status`);
  } finally {
    workload.kill("SIGCONT");
    workload.kill("SIGTERM");
  }
}

const say = (line: string) => process.stdout.write(line + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
