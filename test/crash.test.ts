import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import { Engine } from "../engine";
import { CLI, lifeboat, vaultCli } from "./cli";
import { EngineClient } from "../client/engine-client";
import { makeDisk, overwriteBlocks, tempDir } from "./helpers";

/**
 * Real processes killed with SIGKILL at the worst moments (mid initial replication, mid drill, mid
 * failover, inside a consistency window with the source machine stopped), then the vault opened again:
 * nothing may stay half-done. Every wait is for a condition (a file, a catalog row), never a fixed sleep.
 */

/** The state letter of a process in /proc/<pid>/stat ('T': stopped), or undefined once it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}
/** Alive and not a zombie (an orphan killed in a container may stay a zombie when pid 1 does not reap). */
const alive = (pid: number) => !["Z", "X", undefined].includes(procState(pid));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sha = async (file: string) =>
  createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");

/** A child process to kill; its output is kept for failure messages. */
function spawnCli(args: string[]): { child: ChildProcess; closed: Promise<void>; output: () => string; kill: () => Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  return {
    child,
    closed,
    output: () => output,
    kill: async () => {
      child.kill("SIGKILL");
      await closed;
    },
  };
}

/** A machine stand-in: a real process the pause hook stops (kill -STOP) and the resume hook continues. */
function machineProcess(): number {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  after(() => {
    try {
      process.kill(child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  });
  return child.pid!;
}

/** Kill a process (or with a negative id, its group) this test started, if it still runs the `sleep` it ran (its pid may be reused). */
function killPid(pid: number): void {
  try {
    if (!readFileSync(`/proc/${Math.abs(pid)}/cmdline`, "utf8").startsWith("sleep")) return;
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

interface JobRow {
  id: string;
  type: string;
  target: string;
  state: string;
  code: string | null;
}

/** Reads the catalog without opening the vault (opening it is what ends interrupted jobs). */
function catalog(vault: string) {
  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(path.join(vault, "catalog.sqlite"), { fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  return {
    query,
    jobs: () => query<JobRow>("select id, type, target, state, error_code as code from jobs order by created_at, id"),
    job: (id: string) => query<JobRow>("select id, type, target, state, error_code as code from jobs where id = ?", id)[0],
    /** The newest job of a type that is running, with its tasks' states. */
    running: (type: string) =>
      query<JobRow>(
        "select id, type, target, state, error_code as code from jobs where type = ? and state = 'InProgress' order by created_at desc limit 1",
        type,
      )[0],
    taskState: (jobId: string, name: string) =>
      query<{ state: string }>("select state from tasks where job_id = ? and name = ? order by id desc limit 1", jobId, name)[0]?.state,
    openDrills: (item: string) =>
      query<{ id: string }>("select drills.id from drills join items on items.id = drills.item_id where items.name = ? and cleaned_at is null", item),
  };
}

/** A vault with a source site, a recovery site and a policy, driven through the CLI. */
async function crashVault(dir: string) {
  const vault = path.join(dir, "vault");
  const cli = vaultCli(() => vault);
  await cli.ok("vault", "init");
  await cli.ok("site", "add", "hq", "--kind", "hyperv");
  await cli.ok("site", "add", "dr", "--kind", "recovery", "--path", path.join(dir, "dr"));
  await cli.ok("policy", "add", "gold");
  return { vault, ...cli, catalog: catalog(vault), spawn: (...args: string[]) => spawnCli(["--vault", vault, ...args]) };
}

interface TaskLike {
  name: string;
  state: string;
  children: TaskLike[];
}
const tasksIn = (tasks: TaskLike[]): TaskLike[] => tasks.flatMap((t) => [t, ...tasksIn(t.children)]);

/** A recovery machine that starts (writing its pid) but stays unhealthy until `healthy` exists: a job killed while it waits. */
const slowMachine = (healthy: string) => [
  "--compute",
  "process",
  "--start-cmd",
  "echo $$ > pid; exec sleep 600",
  "--health-check",
  `test -f ${healthy}`,
  "--health-timeout-seconds",
  "600",
];

describe("crash: a SIGKILLed process leaves nothing half-done", function () {
  this.timeout(600_000);

  it("a killed protect: the next command ends its job Interrupted, health is not Normal without a point, and the scheduler resumes it", async () => {
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "big.img");
    await makeDisk(disk, 4096, 1000); // 256 MiB: the initial replication takes a while
    const protect = v.spawn("protect", "vm", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`);
    const job = await waitFor("the initial replication to be under way", () => {
      const running = v.catalog.running("EnableProtection");
      return running && v.catalog.taskState(running.id, "Disk os") === "InProgress" && running;
    });
    await protect.kill();
    assert.equal(v.catalog.job(job.id).state, "InProgress", "killed mid-way: the job row still says InProgress");

    // The next command (any command: it opens the vault) ends the dead process's job.
    const jobs = (await v.ok("jobs", "--json")).json() as Array<{ id: string; state: string; error: { code: string } | null; tasks: TaskLike[] }>;
    const ended = jobs.find((j) => j.id === job.id)!;
    assert.deepEqual([ended.state, ended.error?.code], ["Failed", "Interrupted"]);
    assert.deepEqual(
      tasksIn(ended.tasks).filter((t) => t.state === "InProgress"),
      [],
      "no task stays InProgress",
    );
    const status = (await v.ok("status", "vm", "--json")).json();
    assert.equal(status.points, 0);
    assert.equal(status.state, "InitialReplicationPending", "put back where the scheduler resumes it");
    assert.notEqual(status.health, "Normal", "no recovery point is not Normal");
    assert.ok(
      status.healthErrors.some((e: { code: string }) => e.code === "NoRecoveryPoint"),
      JSON.stringify(status.healthErrors),
    );
    assert.ok(
      status.history.some((e: { code: string; message: string }) => e.code === "JobInterrupted" && e.message.includes(job.id)),
      JSON.stringify(status.history),
    );

    // The scheduler's next pass resumes the initial replication to a first point, byte-exact.
    const engine = await Engine.open(v.vault);
    try {
      const report = await engine.tick();
      assert.deepEqual(report.initialReplications, ["vm"]);
      const points = await engine.points("vm");
      assert.equal(points.length, 1);
      const out = path.join(dir, "out");
      assert.equal((await engine.materialize("vm", "latest", out)).state, "Succeeded");
      assert.equal(await sha(path.join(out, "os")), await sha(disk));
      assert.equal((await engine.item("vm")).health, "Normal");
    } finally {
      await engine.close();
    }
  });

  it("a job whose pid now names another process (pid reuse) is interrupted; one owned by another host's process is left alone", async () => {
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "big.img");
    await makeDisk(disk, 4096, 1000);
    const protect = v.spawn("protect", "vm", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`);
    const job = await waitFor("the initial replication to be under way", () => v.catalog.running("EnableProtection"));
    await protect.kill();
    const edit = (sql: string, ...params: unknown[]) => {
      const db = new Database(path.join(v.vault, "catalog.sqlite"));
      try {
        db.prepare(sql).run(...params);
      } finally {
        db.close();
      }
    };
    // The dead owner as if it ran on another host: its pid means nothing here, so it is not touched.
    const owner = v.catalog.query<{ host: string; pid: number; start: string }>(
      "select owner_host as host, owner_pid as pid, owner_start as start from jobs where id = ?",
      job.id,
    )[0];
    assert.equal(owner.pid, protect.child.pid);
    edit("update jobs set owner_host = ? where id = ?", "another-host", job.id);
    await v.ok("jobs", "--json");
    assert.equal(v.catalog.job(job.id).state, "InProgress", "another host's job is left alone");
    // Its pid now taken by a live process of this host, which started later: not the owner.
    const other = machineProcess();
    edit("update jobs set owner_host = ?, owner_pid = ? where id = ?", owner.host, other, job.id);
    await v.ok("jobs", "--json");
    assert.deepEqual([v.catalog.job(job.id).state, v.catalog.job(job.id).code], ["Failed", "Interrupted"]);
    assert.ok(alive(other), "the process that reused the pid is not touched");
  });

  it("a killed drill: its job ends Interrupted, its half-made test machine goes, a new drill succeeds and unprotect works", async () => {
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "app.img");
    await makeDisk(disk, 16);
    const healthy = path.join(dir, "healthy");
    await v.ok("protect", "app", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`, "--recovery-site", "dr", ...slowMachine(healthy));
    const drill = v.spawn("drill", "app", "--point", "latest-processed");
    const pidFile = path.join(dir, "dr", "app-test", "pid");
    const machinePid = await waitFor("the test machine to start", () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")));
    after(() => killPid(machinePid));
    const job = v.catalog.running("TestFailover");
    await drill.kill();
    assert.ok(job && v.catalog.job(job.id).state === "InProgress", "killed while the test machine was starting");
    assert.ok(alive(machinePid), "the half-made test machine outlived the killed CLI");

    const ended = ((await v.ok("jobs", "--json")).json() as Array<{ id: string; state: string; error: { code: string; message: string } | null }>).find(
      (j) => j.id === job.id,
    )!;
    assert.deepEqual([ended.state, ended.error?.code], ["Failed", "Interrupted"]);
    assert.match(ended.error!.message, /process \d+ .*ended/);
    assert.equal(alive(machinePid), false, "the half-made test machine was stopped");
    assert.equal(existsSync(path.join(dir, "dr", "app-test")), false, "and its directory removed");

    await fs.writeFile(healthy, "");
    const again = (await v.ok("drill", "app", "--point", "latest-processed", "--json")).json();
    assert.equal(again.state, "Succeeded");
    await v.ok("drill", "cleanup", "app");
    await v.ok("unprotect", "app");
    assert.equal((await v.run("status", "app")).code, 1, "the item is gone");
  });

  it("a killed failover: cancel of its job (owner gone) ends it, the item stays at the primary, and failover runs again", async () => {
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "web.img");
    await makeDisk(disk, 16);
    const healthy = path.join(dir, "healthy");
    await v.ok("protect", "web", "--site", "hq", "--policy", "gold", "--disk", `os=${disk}:os`, "--recovery-site", "dr", ...slowMachine(healthy));
    // A daemon-like engine open before the crash: it sees the job die under it and must not wait for it.
    const held = await Engine.open(v.vault);
    try {
      const failover = v.spawn("failover", "web", "--type", "unplanned", "--point", "latest-processed");
      const pidFile = path.join(dir, "dr", "web", "pid");
      const machinePid = await waitFor("the recovery machine to start", () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")));
      after(() => killPid(machinePid));
      const job = v.catalog.running("Failover");
      await failover.kill();
      assert.ok(job && v.catalog.job(job.id).state === "InProgress");

      await held.cancel(job.id);
      const ended = await held.job(job.id);
      assert.deepEqual([ended.state, ended.error?.code], ["Cancelled", "Interrupted"], JSON.stringify(ended));
      const item = await held.item("web");
      assert.deepEqual([item.activeSite, item.failoverState, item.recoveryMachine], ["primary", null, null]);
      assert.equal(alive(machinePid), false, "the half-started recovery machine was stopped");
      assert.equal(existsSync(path.join(dir, "dr", "web")), false);
    } finally {
      await held.close();
    }
    await fs.writeFile(healthy, "");
    const again = (await v.ok("failover", "web", "--type", "unplanned", "--point", "latest-processed", "--json")).json();
    assert.equal(again.state, "Succeeded");
    assert.equal((await v.ok("status", "web", "--json")).json().activeSite, "recovery");
    const running = Number(readFileSync(path.join(dir, "dr", "web", "pid"), "utf8"));
    after(() => killPid(-running)); // the recovery machine's process group
  });

  it("a process killed inside a consistency window: the next open resumes the machine, then unquiesces it, and says so in its history", async () => {
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "db.img");
    await makeDisk(disk, 16);
    const machine = machineProcess();
    const log = path.join(dir, "hooks.log");
    const trap = path.join(dir, "trap");
    const hookPid = path.join(dir, "hook.pid");
    // The pause hook stops the machine; with the trap set it then sleeps, so the kill lands inside the window.
    const pause = `kill -STOP ${machine} && echo pause >> ${log} && if [ -f ${trap} ]; then echo $$ > ${hookPid}; exec sleep 600; fi`;
    await v.ok(
      "protect",
      "db",
      "--site",
      "hq",
      "--policy",
      "gold",
      "--disk",
      `os=${disk}:os`,
      "--pause-cmd",
      pause,
      "--resume-cmd",
      `kill -CONT ${machine} && echo resume >> ${log}`,
      "--quiesce-cmd",
      `echo quiesce >> ${log}`,
      "--unquiesce-cmd",
      `echo unquiesce >> ${log}`,
    );
    await fs.writeFile(trap, "");
    const sync = v.spawn("sync", "db", "--app-consistent");
    const sleeper = await waitFor("the pause hook to hold the window open", () => existsSync(hookPid) && Number(readFileSync(hookPid, "utf8")));
    assert.equal(procState(machine), "T", "the machine is stopped inside the window");
    await sync.kill();
    killPid(sleeper);
    await fs.rm(trap);
    assert.equal(procState(machine), "T", "nothing resumed it: the process that would have is dead");

    const status = (await v.ok("status", "db", "--json")).json();
    assert.notEqual(procState(machine), "T", "opening the vault ran the resume hook");
    assert.ok(alive(machine));
    const lines = (await fs.readFile(log, "utf8")).trim().split("\n");
    assert.deepEqual(lines.slice(-4), ["quiesce", "pause", "resume", "unquiesce"], "undone in reverse order: resume first, then unquiesce");
    const event = status.history.find((e: { code: string }) => e.code === "WindowClosedAfterCrash");
    assert.ok(event, JSON.stringify(status.history));
    assert.match(event.message, /resume.*unquiesce/);
    assert.equal((await v.ok("sync", "db", "--json")).json().state, "Succeeded");
    assert.notEqual(procState(machine), "T");
  });

  /** A daemon and the agent of host-a as processes of their own; the agent can be killed and started again. */
  async function withAgent(
    dir: string,
    body: (
      admin: EngineClient,
      agent: { kill: () => Promise<void>; start: () => void },
      begin: (route: string, body: unknown) => Promise<{ id: string }>,
    ) => Promise<void>,
  ): Promise<void> {
    const vault = path.join(dir, "vault");
    const init = await lifeboat(["vault", "init", vault, "--json"]);
    assert.equal(init.code, 0, init.stderr);
    const key = JSON.parse(init.stdout).registrationKey as string;
    const daemon = spawnCli(["--vault", vault, "serve", "--port", "0", "--tick-ms", "200"]);
    let agent: ReturnType<typeof spawnCli> | undefined;
    try {
      const endpoint = (await waitFor("the daemon to listen", () => /API at (\S+);/.exec(daemon.output())?.[1], 30_000)) as string;
      const token = (await fs.readFile(path.join(vault, "admin.token"), "utf8")).trim();
      const admin = new EngineClient(endpoint, token, { pollMs: 50 });
      // Start an operation and answer its job at once: the client would follow it, and a job the agent holds may not end.
      const begin = async (route: string, payload: unknown) => {
        const response = await fetch(new URL(route, endpoint), {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(payload),
        });
        assert.equal(response.status, 202, await response.clone().text());
        return (await response.json()) as { id: string };
      };
      await admin.addSite({ name: "hq", kind: "physical" });
      await admin.addPolicy({ name: "gold", copyFrequency: "15m", retentionHours: 24 });
      const args = [
        "agent",
        "--engine",
        endpoint,
        "--host",
        "host-a",
        "--site",
        "hq",
        "--registration-key",
        key,
        "--work-dir",
        path.join(dir, "agent-state"),
        "--store",
        path.join(vault, "store"),
        "--poll-ms",
        "200",
      ];
      const control = { start: () => void (agent = spawnCli(args)), kill: async () => agent?.kill() };
      control.start();
      await waitFor("the agent to register", async () => (await admin.listSites())[0].hosts.includes("host-a"), 30_000);
      await body(admin, control, begin);
    } finally {
      for (const p of [agent, daemon]) {
        if (p && p.child.exitCode === null) {
          p.child.kill("SIGTERM");
          await p.closed;
        }
      }
    }
  }

  it("an agent killed mid initial replication: started again, it takes the work up at once (not after its lease) and protection completes", async () => {
    const dir = tempDir();
    await withAgent(dir, async (admin, agent, begin) => {
      const disk = path.join(dir, "big.img");
      await makeDisk(disk, 4096, 1000);
      const protect = await begin("/v1/items", { name: "big", site: "hq", host: "host-a", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
      await waitFor("the agent to take the initial replication", async () => (await admin.item("big")).state === "InitialReplicationInProgress", 60_000);
      await agent.kill();
      assert.equal((await admin.job(protect.id)).state, "InProgress", "killed mid-way");
      agent.start();
      await waitFor("the protection to complete", async () => (await admin.job(protect.id)).state === "Succeeded", 120_000);
      const out = path.join(dir, "out");
      assert.equal((await admin.materialize("big", "latest", out)).state, "Succeeded");
      assert.equal(await sha(path.join(out, "os")), await sha(disk));
    });
  });

  it("an agent killed inside its window: started again, it resumes the machine first, the item's history says so, and the work is done", async () => {
    const dir = tempDir();
    await withAgent(dir, async (admin, agent, begin) => {
      const disk = path.join(dir, "db.img");
      await makeDisk(disk, 16);
      const machine = machineProcess();
      const trap = path.join(dir, "trap");
      const hookPid = path.join(dir, "hook.pid");
      const hooks = { pause: `kill -STOP ${machine} && if [ -f ${trap} ]; then echo $$ > ${hookPid}; exec sleep 600; fi`, resume: `kill -CONT ${machine}` };
      const protect = await admin.protect({ name: "db", site: "hq", host: "host-a", policy: "gold", disks: [{ name: "os", path: disk, os: true }], hooks });
      await waitFor("the agent's first point", async () => (await admin.job(protect.id)).state === "Succeeded", 60_000);

      await fs.writeFile(trap, "");
      const sync = await begin("/v1/items/db/sync", {});
      const sleeper = await waitFor(
        "the agent's pause hook to hold the window open",
        () => existsSync(hookPid) && Number(readFileSync(hookPid, "utf8")),
        60_000,
      );
      // SIGSTOP takes effect when the machine is next scheduled: on a loaded host, a moment after kill returns.
      await waitFor("the machine to be stopped by the pause hook", () => procState(machine) === "T", 30_000);
      await agent.kill();
      killPid(sleeper);
      await fs.rm(trap);
      assert.equal(procState(machine), "T", "the killed agent left the machine stopped");

      agent.start();
      await waitFor("the restarted agent to resume the machine", () => procState(machine) !== "T" && alive(machine), 30_000);
      const event = await waitFor(
        "the window in the item's history",
        async () => (await admin.item("db")).history.find((e) => e.code === "WindowClosedAfterCrash"),
        30_000,
      );
      assert.match(event.message, /^agent on host-a: .*resume hook ran/);
      // The restarted agent holds nothing from before: the replicate the killed one held is done now, not after its lease.
      await waitFor("the replicate job to be done", async () => (await admin.job(sync.id)).state === "Succeeded", 60_000);
      assert.notEqual(procState(machine), "T");
    });
  });

  it(`survives ${Number(process.env.CRASH_TRIALS ?? 15)} kills at random moments: no job left InProgress, the machine never left paused, every point byte-exact`, async () => {
    const trials = Number(process.env.CRASH_TRIALS ?? 15);
    const dir = tempDir();
    const v = await crashVault(dir);
    const disk = path.join(dir, "vm.img");
    await makeDisk(disk, 1536, 50); // 96 MiB
    const machine = machineProcess();
    await v.ok(
      "protect",
      "vm",
      "--site",
      "hq",
      "--policy",
      "gold",
      "--disk",
      `os=${disk}:os`,
      "--pause-cmd",
      `kill -STOP ${machine}`,
      "--resume-cmd",
      `kill -CONT ${machine}`,
      "--recovery-site",
      "dr",
    );
    /** What each listed point must restore: the disk's hash when its cycle started (nothing writes it meanwhile). */
    const expected = new Map<string, string>();
    const verified = new Set<string>();
    const points = async () => (await v.ok("points", "vm", "--json")).json() as Array<{ id: string }>;
    const claimNewPoints = async (hash: string) => {
      for (const p of await points()) if (!expected.has(p.id)) expected.set(p.id, hash);
    };
    await claimNewPoints(await sha(disk));
    const materializesExactly = async (id: string) => {
      const out = path.join(dir, "verify");
      await fs.rm(out, { recursive: true, force: true });
      await v.ok("materialize", "vm", "--point", id, "--out", out);
      assert.equal(await sha(path.join(out, "os")), expected.get(id), `point ${id} restores the disk as it was at its capture`);
      verified.add(id);
    };

    // "window": a cycle killed at a random moment after the pause hook stopped the machine.
    const ops = ["sync", "drill", "window", "materialize", "protect"] as const;
    const figures = { trials, midway: 0, insideWindow: 0, failures: 0 };
    const took = new Map<string, number>();
    for (let trial = 0; trial < trials; trial++) {
      const op = ops[trial % ops.length];
      let args: string[];
      let type: string;
      let hash = "";
      const extra = path.join(dir, `p${trial}.img`);
      const cycle = op === "sync" || op === "window";
      if (cycle) {
        const from = Math.floor(Math.random() * 900);
        await overwriteBlocks(disk, from, from + 600);
        hash = await sha(disk);
        [args, type] = [["sync", "vm"], "Replicate"];
      } else if (op === "drill") {
        [args, type] = [["drill", "vm", "--point", "latest-processed"], "TestFailover"];
      } else if (op === "materialize") {
        [args, type] = [["materialize", "vm", "--point", "latest", "--out", path.join(dir, `m${trial}`)], "Materialize"];
      } else {
        await makeDisk(extra, 512, 50);
        [args, type] = [["protect", `p${trial}`, "--site", "hq", "--policy", "gold", "--disk", `os=${extra}:os`], "EnableProtection"];
      }
      const before = new Set(v.catalog.jobs().map((j) => j.id));
      const child = v.spawn(...args);
      const exited = () => child.child.exitCode !== null && { id: "", type, target: "", state: "exited", code: null };
      const job = await waitFor(
        `the ${type} job of trial ${trial} to start`,
        () => v.catalog.jobs().find((j) => j.type === type && !before.has(j.id)) ?? exited(),
      );
      if (op === "window") {
        await waitFor(`the window of trial ${trial}`, () => procState(machine) === "T" || exited());
        await sleep(Math.random() * 100);
      } else await sleep(Math.random() * (took.get(op) ?? 1000)); // within how long it took when it last ran to the end
      if (child.child.exitCode === null && job.id && v.catalog.job(job.id).state === "InProgress") figures.midway++;
      if (procState(machine) === "T") figures.insideWindow++;
      await child.kill();

      try {
        // Reopen (any command), then the invariants.
        const jobs = (await v.ok("jobs", "--json", "--limit", "500")).json() as Array<{ id: string; type: string; state: string }>;
        assert.deepEqual(
          jobs.filter((j) => j.state === "InProgress"),
          [],
          `trial ${trial} (${op}): no job InProgress without a live owner`,
        );
        assert.ok(alive(machine) && procState(machine) !== "T", `trial ${trial} (${op}): the machine is not left paused`);
        if (cycle) await claimNewPoints(hash);
        for (const p of await points()) if (!verified.has(p.id)) await materializesExactly(p.id);

        // The operation can be run again, and succeeds.
        const redoStarted = Date.now();
        if (cycle) {
          await v.ok("sync", "vm");
          took.set(op, Date.now() - redoStarted);
          await claimNewPoints(hash);
        } else if (op === "drill") {
          if (v.catalog.openDrills("vm").length) await v.ok("drill", "cleanup", "vm");
          const drillStarted = Date.now();
          assert.equal((await v.ok("drill", "vm", "--point", "latest-processed", "--json")).json().state, "Succeeded");
          took.set(op, Date.now() - drillStarted);
          await v.ok("drill", "cleanup", "vm");
        } else if (op === "materialize") {
          const out = path.join(dir, `m${trial}`);
          await v.ok("materialize", "vm", "--point", "latest", "--out", out);
          took.set(op, Date.now() - redoStarted);
          const latest = (await points()).at(-1)!.id;
          assert.equal(await sha(path.join(out, "os")), expected.get(latest));
        } else {
          const name = `p${trial}`;
          // Killed before its machine was added (the job starts first): nothing was made, and protect runs again.
          if (!v.catalog.query("select id from items where name = ?", name).length) await v.ok("protect", ...args.slice(1));
          const status = (await v.ok("status", name, "--json")).json();
          if (status.points === 0) assert.notEqual(status.health, "Normal", `trial ${trial}: ${name} has no point yet`);
          await v.ok("sync", name);
          took.set(op, Date.now() - redoStarted);
          assert.equal((await v.ok("status", name, "--json")).json().points >= 1, true);
          await v.ok("unprotect", name);
          await fs.rm(extra);
        }
        assert.ok(procState(machine) !== "T");
      } catch (error) {
        figures.failures++;
        throw error;
      }
    }
    for (const p of await points()) if (!verified.has(p.id)) await materializesExactly(p.id);
    assert.equal(v.catalog.jobs().filter((j) => j.state === "InProgress").length, 0);
    console.log(
      `      crash trials: ${figures.trials}, killed mid-operation: ${figures.midway}, inside a consistency window: ${figures.insideWindow}, failures: ${figures.failures}; ${verified.size} point(s) materialized byte-exact`,
    );
  });
});
