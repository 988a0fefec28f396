import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { newVault, tempDir } from "./helpers";
import type { JobView, PointView } from "../engine";

/** Plain JavaScript, so the child starts fast; tsc does not copy it, so a compiled copy of this test finds it in the sources. */
const WORKLOAD = [path.join(__dirname, "fixtures", "sqlite-workload.js"), path.join(__dirname, "..", "..", "test", "fixtures", "sqlite-workload.js")].find((f) => existsSync(f))!;
const CYCLES = 8;
/** How long the workload writes between cycles (varied so the pause lands at different moments). */
const WRITE_MS = [150, 300] as const;

/** The workload child process and what it has told us so far. */
class Workload {
  readonly child: ChildProcess;
  ready = false;
  /** The last `committed N` received: rows 1..N were committed before that line was written. */
  committed = -1;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  stderr = "";
  /** Set when the workload broke its stdout protocol. */
  protocolError: string | null = null;
  private buffered = "";

  constructor(dbFile: string) {
    this.child = spawn(process.execPath, [WORKLOAD, dbFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      this.buffered += chunk;
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop()!;
      for (const line of lines) this.line(line);
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      process.off("exit", this.killOnExit);
    });
    // If mocha itself dies before `after` runs, do not leave a (possibly SIGSTOPped) writer behind.
    process.on("exit", this.killOnExit);
  }

  private readonly killOnExit = () => {
    this.child.kill("SIGKILL");
  };

  private line(line: string): void {
    if (line === "ready") this.ready = true;
    else if (/^committed \d+$/.test(line)) {
      const n = Number(line.slice("committed ".length));
      if (n < this.committed) this.protocolError = `committed count went down: ${this.committed} then ${n}`;
      this.committed = Math.max(this.committed, n);
    } else if (line !== "") this.protocolError = `unexpected line from workload: ${JSON.stringify(line)}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Fail the test if the workload died or spoke nonsense. */
  check(): void {
    if (this.protocolError) throw new Error(this.protocolError);
    if (this.exited) throw new Error(`workload exited (code ${this.exited.code}, signal ${this.exited.signal}): ${this.stderr.trim()}`);
  }

  async until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      this.check();
      if (Date.now() > deadline) throw new Error(`workload: gave up waiting for ${what} after ${timeoutMs} ms; stderr: ${this.stderr.trim()}`);
      await sleep(5);
    }
    this.check();
  }

  /** Stop it even when it is SIGSTOPped (a failed cycle may leave it so): continue, then terminate. */
  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      process.kill(this.pid, "SIGCONT");
      process.kill(this.pid, "SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Checked {
  rows: number;
  dbSize: number;
}

/** Open a materialized copy and check it row by row; returns the number of rows. */
function checkDatabase(file: string, label: string): number {
  const db = new Database(file); // read-write: SQLite rebuilds the -shm from the WAL beside it
  try {
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal", `${label}: the copy should be a WAL database`);
    const integrity = db.pragma("integrity_check") as Array<{ integrity_check: string }>;
    assert.deepEqual(
      integrity.map((r) => r.integrity_check),
      ["ok"],
      `${label}: integrity_check failed`,
    );
    let expected = 1;
    for (const row of db.prepare("SELECT seq, payload, sum FROM rows ORDER BY seq").iterate() as Iterable<{ seq: number; payload: Buffer; sum: string }>) {
      assert.equal(row.seq, expected, `${label}: seq should run 1..count without gaps; found ${row.seq} where ${expected} was due`);
      assert.ok(Buffer.isBuffer(row.payload) && row.payload.length >= 100 && row.payload.length <= 4000, `${label}: row ${row.seq} has a payload of ${row.payload?.length} bytes`);
      assert.equal(createHash("sha256").update(row.payload).digest("hex"), row.sum, `${label}: row ${row.seq} does not match its checksum`);
      expected++;
    }
    const rows = expected - 1;
    const { n } = db.prepare("SELECT count(*) AS n FROM rows").get() as { n: number };
    assert.equal(n, rows, `${label}: count(*) disagrees with the rows read`);
    return rows;
  } finally {
    db.close();
  }
}

describe("a live SQLite database (WAL mode) as the workload", function () {
  this.timeout(120_000);
  let workload: Workload | undefined;

  after(async () => {
    await workload?.stop();
  });

  it("every crash-consistent point opens as an intact database holding every row committed before its pause", async () => {
    const dir = tempDir("lifeboat-sqlite-");
    const source = path.join(dir, "source");
    await fs.mkdir(source);
    const dbFile = path.join(source, "app.db");
    const walFile = `${dbFile}-wal`;

    workload = new Workload(dbFile);
    await workload.until("ready", () => workload!.ready);
    await workload.until("a first commit", () => workload!.committed > 0);
    assert.ok(existsSync(dbFile) && existsSync(walFile), "the database and its WAL should both exist");

    const { engine, clock } = await newVault(dir);
    const name = "sqlite-vm";
    const pid = workload.pid;

    /** Point id -> committed count printed before the capture that made it. */
    const committedBefore = new Map<string, number>();

    let before = workload.committed;
    const protect = await engine.protect({
      name,
      site: "hq",
      policy: "gold",
      disks: [
        { name: "app.db", path: dbFile, os: true },
        { name: "app.db-wal", path: walFile },
      ],
      hooks: { pause: `kill -STOP ${pid}`, resume: `kill -CONT ${pid}` },
    });
    assert.equal(protect.state, "Succeeded", `protect failed: ${JSON.stringify(protect.error)}`);
    const firstPoint = (protect.result as { point: string }).point;
    assert.ok(firstPoint, "protect should report its first point");
    committedBefore.set(firstPoint, before);
    workload.check();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Let it write; the committed count grows meanwhile (the workload would have died otherwise).
      const floor = workload.committed;
      await sleep(WRITE_MS[0] + Math.floor(Math.random() * (WRITE_MS[1] - WRITE_MS[0])));
      await workload.until(`commits after cycle ${cycle}`, () => workload!.committed > floor);

      clock.advance(30_000);
      before = workload.committed;
      const job: JobView = await engine.replicateNow(name);
      assert.equal(job.state, "Succeeded", `cycle ${cycle} failed: ${JSON.stringify(job.error)}`);
      const made = (job.result as { points: PointView[] }).points;
      assert.equal(made.length, 1, `cycle ${cycle} should make one point`);
      committedBefore.set(made[0].id, before);
      workload.check();
    }

    const points = await engine.points(name);
    assert.deepEqual(
      points.map((p) => p.id),
      [...committedBefore.keys()],
      "the vault should list exactly the points the cycles made, oldest first",
    );
    assert.equal(points.length, CYCLES + 1);

    const checked: Checked[] = [];
    for (const [i, point] of points.entries()) {
      const label = `point ${i} (${point.id})`;
      assert.deepEqual(
        point.disks.map((d) => d.name),
        ["app.db", "app.db-wal"],
        `${label}: disks`,
      );
      const outDir = path.join(dir, "restore", String(i));
      const job = await engine.materialize(name, point.id, outDir);
      assert.equal(job.state, "Succeeded", `${label}: materialize failed: ${JSON.stringify(job.error)}`);
      for (const disk of point.disks) {
        assert.equal((await fs.stat(path.join(outDir, disk.name))).size, disk.size, `${label}: ${disk.name} has the size recorded in the point`);
      }

      const rows = checkDatabase(path.join(outDir, "app.db"), label);
      const floor = committedBefore.get(point.id)!;
      assert.ok(rows >= floor, `${label}: holds ${rows} rows, but ${floor} were committed before its pause`);
      if (checked.length) {
        const previous = checked[checked.length - 1].rows;
        assert.ok(rows >= previous, `${label}: holds ${rows} rows, fewer than the point before (${previous})`);
      }
      checked.push({ rows, dbSize: point.disks.find((d) => d.name === "app.db")!.size });
      await fs.rm(outDir, { recursive: true, force: true }); // a throwaway copy; keep the disk footprint small
    }

    const first = checked[0];
    const last = checked[checked.length - 1];
    assert.ok(last.rows > first.rows, `the rows should grow over the run (first point ${first.rows}, last ${last.rows})`);
    // Checkpoints really happened while we replicated: pages moved from the WAL into the main file.
    assert.ok(last.dbSize > first.dbSize, `app.db should grow through checkpoints (first point ${first.dbSize} bytes, last ${last.dbSize})`);

    // The protect job's bytesStored covers the initial scan and the first point; the cycles add the rest.
    const initial = (protect.result as { bytesStored: number }).bytesStored;
    const byCycles = points.slice(1).reduce((total, p) => total + p.bytesStored, 0);
    const store = (await engine.status()).vault.store;
    console.log(
      `      sqlite workload: ${points.length} points checked, ${last.rows} rows in the last point (app.db ${last.dbSize} bytes); ` +
        `${initial + byCycles} bytes stored (protect ${initial}, cycles ${byCycles}; the store holds ${store.storedBytes} in ${store.blocks} blocks)`,
    );
  });
});
