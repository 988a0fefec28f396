// Addresses at the recovery site when the machines of one plan group come up in parallel: each takes
// its own, every time, and a machine that cannot come up leaves nothing behind. Engine level, on a
// manual clock, with real image files as disks.
import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { makeDisk, recoveryVault, tempDir } from "./helpers";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

const MACHINES = ["app1", "app2", "app3", "app4"];

/** Protects a machine with a NIC on the source network "corp" (mapped to dr-net), coming up with the `none` driver. */
async function protect(engine: Engine, dir: string, name: string, recovery: Record<string, unknown> = {}) {
  const disk = path.join(dir, `${name}.img`);
  await makeDisk(disk, 3);
  const job = await engine.protect({
    name,
    site: "hq",
    policy: "gold",
    disks: [{ name: "os", path: disk, os: true }],
    nics: [{ network: "corp" }],
    recovery: { site: "dr", ...recovery },
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
}

/** The first address of each machine brought up at the recovery site, from its machine.json. */
async function addresses(site: string, suffix: string): Promise<string[]> {
  const ips: string[] = [];
  for (const name of MACHINES) {
    const description = JSON.parse(await fs.readFile(path.join(site, `${name}${suffix}`, "machine.json"), "utf8")) as { nics: Array<{ ip: string }> };
    ips.push(description.nics[0].ip);
  }
  return ips;
}

const allocations = (engine: Engine) => engine.vault.db.selectFrom("ip_allocations").selectAll().execute();

describe("recovery addresses of machines coming up in parallel", function () {
  this.timeout(180_000);

  it("a group of 4 machines on one network: drills and failovers, 10 times each, every machine its own address, nothing left after", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    const site = path.join(dir, "dr");
    for (const name of MACHINES) await protect(engine, dir, name);
    await engine.addPlan({ name: "shop", groups: [{ items: MACHINES }] });

    for (let round = 1; round <= 10; round++) {
      const drill = await engine.runPlan("shop", { type: "test", point: "latest-processed" });
      assert.equal(drill.state, "Succeeded", `drill ${round}: ${JSON.stringify(drill.error)}`);
      const ips = await addresses(site, "-test");
      assert.equal(new Set(ips).size, MACHINES.length, `drill ${round}: addresses ${ips.join(", ")}`);
      for (const name of MACHINES) assert.equal((await engine.drillCleanup(name, `round ${round}`)).state, "Succeeded");
      assert.deepEqual(await fs.readdir(site).catch(() => []), [], `drill ${round}: the cleanup left nothing at the recovery site`);
      assert.deepEqual(await allocations(engine), [], `drill ${round}: every address was given back`);
    }

    for (let round = 1; round <= 10; round++) {
      const over = await engine.runPlan("shop", { type: "unplanned", point: "latest-processed" });
      assert.equal(over.state, "Succeeded", `failover ${round}: ${JSON.stringify(over.error)}`);
      const ips = await addresses(site, "");
      assert.equal(new Set(ips).size, MACHINES.length, `failover ${round}: addresses ${ips.join(", ")}`);
      for (const name of MACHINES) {
        assert.equal((await engine.commit(name)).state, "Succeeded");
        assert.equal((await engine.reprotect(name)).state, "Succeeded");
      }
      const back = await engine.runPlan("shop", { type: "planned" });
      assert.equal(back.state, "Succeeded", `failback ${round}: ${JSON.stringify(back.error)}`);
      for (const name of MACHINES) {
        assert.equal((await engine.commit(name)).state, "Succeeded", `commit of the failback of ${name}`);
        assert.equal((await engine.reprotect(name)).state, "Succeeded", `reprotect of ${name} at the primary`);
      }
      assert.deepEqual(await fs.readdir(site).catch(() => []), [], `failover ${round}: the failback's commit left nothing at the recovery site`);
      assert.deepEqual(await allocations(engine), [], `failover ${round}: every address was given back`);
    }
  });

  it("machines a subnet has no address for fail with SubnetFull and leave nothing behind; the one that came up has the only address", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    const site = path.join(dir, "dr");
    // A /30 holds one host address (.2): of four machines coming up together, one gets it.
    await engine.addNetwork({ name: "tiny", site: "dr", subnets: ["10.9.0.0/30"] });
    for (const name of MACHINES) await protect(engine, dir, name, { network: "tiny" });
    await engine.addPlan({ name: "shop", groups: [{ items: MACHINES }] });

    const drill = await engine.runPlan("shop", { type: "test", point: "latest-processed" });
    assert.equal(drill.state, "Failed");
    const failures = drill.error!.message.match(/SubnetFull|subnet 10\.9\.0\.0\/30 of 'tiny' has no free address/g) ?? [];
    assert.ok(failures.length >= 3, drill.error!.message);
    const made = await fs.readdir(site);
    assert.equal(made.length, 1, `only the machine with an address was made: ${made.join(", ")}`);
    assert.deepEqual(
      (await allocations(engine)).map((a) => a.ip),
      ["10.9.0.2"],
    );
    const up = made[0].replace(/-test$/, "");
    assert.equal((await engine.drillCleanup(up)).state, "Succeeded");
    assert.deepEqual(await fs.readdir(site), []);
    assert.deepEqual(await allocations(engine), []);
  });
});
