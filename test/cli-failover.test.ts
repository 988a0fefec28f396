import { strict as assert } from "node:assert";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { vaultCli } from "./cli";
import { makeDisk, randomWrites, tempDir } from "./helpers";

describe("the lifeboat CLI: drills, failover, failback and plans", () => {
  let dir: string;
  const { run, ok } = vaultCli(() => path.join(dir, "vault"));

  before(async () => {
    dir = tempDir();
    for (const name of ["web", "db"]) await makeDisk(path.join(dir, `${name}.img`), 8);
    await ok("vault", "init");
    await ok("site", "add", "hq", "--kind", "hyperv");
    await ok("site", "add", "dr", "--kind", "recovery", "--path", path.join(dir, "dr"));
    await ok("policy", "add", "gold");
    await ok("network", "add", "dr-net", "--site", "dr", "--subnet", "10.2.0.0/24");
    await ok("network-map", "add", "corp", "dr-net");
    for (const name of ["web", "db"]) {
      await ok(
        "protect",
        name,
        "--site",
        "hq",
        "--policy",
        "gold",
        "--disk",
        `os=${path.join(dir, `${name}.img`)}:os`,
        "--nic",
        "corp",
        "--recovery-site",
        "dr",
        "--target-size",
        "Standard_A4_v2",
      );
    }
  });

  it("drill and cleanup", async () => {
    const drill = (await ok("drill", "web", "--point", "latest-processed", "--json")).json();
    assert.equal(drill.result.machine.ip, "10.2.0.2");
    assert.ok(existsSync(path.join(dir, "dr", "web-test", "os")));
    await ok("drill", "cleanup", "web", "--notes", "looked fine");
    assert.equal(existsSync(path.join(dir, "dr", "web-test")), false);
    assert.ok((await ok("status", "web", "--json")).json().lastDrillAt);
  });

  it("failover, commit, reprotect and failback, with status reporting the active site", async () => {
    const failover = await ok("failover", "web", "--type", "unplanned", "--point", "latest-processed");
    assert.match(failover.stdout, /Failover web: Succeeded/);
    const machine = JSON.parse(await fs.readFile(path.join(dir, "dr", "web", "machine.json"), "utf8"));
    assert.deepEqual([machine.size, machine.cpus, machine.nics[0].network], ["Standard_A4_v2", 4, "dr-net"]);
    const status = (await ok("status", "--json")).json();
    assert.deepEqual(
      status.items.map((i: { name: string; activeSite: string }) => [i.name, i.activeSite]),
      [
        ["db", "primary"],
        ["web", "recovery"],
      ],
    );
    await ok("commit", "web");
    const twice = await run("commit", "web");
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already committed/);
    await ok("reprotect", "web");
    await randomWrites(path.join(dir, "dr", "web", "os"), 2, 500);
    const back = (await ok("failback", "web", "--original", "--json")).json();
    // Each of the 2 writes (≤ 500 bytes) touches one block, or two when it straddles a boundary.
    assert.ok(back.result.bytesTransferred <= 4 * 65536, `failback wrote ${back.result.bytesTransferred} bytes`);
    assert.ok((await fs.readFile(path.join(dir, "web.img"))).equals(await fs.readFile(path.join(dir, "dr", "web", "os"))));
    const notFailedOver = await run("failback", "db");
    assert.equal(notFailedOver.code, 1);
    assert.match(notFailedOver.stderr, /not replicating back/);
  });

  it("plan add, show, run with a manual action, and jobs resume", async () => {
    await fs.writeFile(
      path.join(dir, "plan.json"),
      JSON.stringify({ groups: [{ items: ["db"], before: [{ name: "ok to go", kind: "manual", instructions: "ask the DBA" }] }] }),
    );
    await ok("plan", "add", "dbplan", "--file", path.join(dir, "plan.json"));
    assert.match((await ok("plan", "show", "dbplan")).stdout, /group 1: db\n {4}before: ok to go \(manual\)/);
    const suspended = (await ok("plan", "run", "dbplan", "--type", "unplanned", "--point", "latest-processed", "--json")).json();
    assert.equal(suspended.state, "Suspended");
    const resumed = (await ok("jobs", "resume", suspended.id, "--json")).json();
    assert.equal(resumed.state, "Succeeded");
    assert.equal((await ok("status", "db", "--json")).json().activeSite, "recovery");
    // Long jobs show where they are: plain lines on stderr when it is not a terminal.
    await fs.writeFile(
      path.join(dir, "slow.json"),
      JSON.stringify({ groups: [{ items: ["web"], before: [{ name: "slow step", kind: "script", command: "sleep 1" }] }] }),
    );
    await ok("plan", "add", "slow", "--file", path.join(dir, "slow.json"));
    const slow = await ok("plan", "run", "slow", "--type", "test", "--point", "latest-processed");
    assert.match(slow.stderr, /^RecoveryPlan slow: Group 1 › Before: slow step$/m);
    const id = /job (job-\S+) RecoveryPlan slow: Succeeded/.exec(slow.stdout)![1];
    const watched = await ok("jobs", "watch", id);
    assert.match(watched.stdout, new RegExp(`job ${id} RecoveryPlan slow: Succeeded`));
    const bad = await run("plan", "add", "broken", "--group", "db,ghost");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /groups\.0\.items\.1: no protected item named 'ghost'/);
  });
});
