import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { ValidationError } from "../schema";
import { makeDisk, recoveryVault, tempDir } from "./helpers";

type Engine = Awaited<ReturnType<typeof recoveryVault>>["engine"];

/** A protected machine whose recovery start command logs "start-<name>" to the order log (and is healthy once it has). */
async function machine(engine: Engine, dir: string, name: string, start?: string) {
  const order = path.join(dir, "order.log");
  await makeDisk(path.join(dir, `${name}.img`), 2);
  const compute = {
    driver: "process",
    start: start ?? `echo start-$LIFEBOAT_MACHINE >> ${order}; exec sleep 600`,
    healthCheck: start ? "test -f ready" : `grep -q start-$LIFEBOAT_MACHINE ${order}`,
    healthTimeoutSeconds: 10,
  };
  const job = await engine.protect({
    name,
    site: "hq",
    policy: "gold",
    disks: [{ name: "os", path: path.join(dir, `${name}.img`), os: true }],
    recovery: { site: "dr", compute },
  });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
}

const script = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, kind: "script", command, ...extra });

describe("recovery plans", () => {
  it("runs groups in order, machines of a group in parallel, suspends at a manual action, and runs to the end on unplanned failures", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    const order = path.join(dir, "order.log");
    const barrier = path.join(dir, "barrier");
    await fs.mkdir(barrier);
    // app1 and app2 each wait until both have started: a group that ran them one after the other would time out.
    const together = `echo start-$LIFEBOAT_MACHINE >> ${order}; touch ${barrier}/$LIFEBOAT_MACHINE; until [ -f ${barrier}/app1 ] && [ -f ${barrier}/app2 ]; do sleep 0.05; done; touch ready; exec sleep 600`;
    await machine(engine, dir, "db");
    await machine(engine, dir, "app1", together);
    await machine(engine, dir, "app2", together);
    await machine(engine, dir, "web");
    const log = (word: string) => `echo ${word}-$LIFEBOAT_GROUP-$LIFEBOAT_FAILOVER_TYPE >> ${order}`;
    await engine.addPlan({
      name: "shop",
      groups: [
        { items: ["db"], before: [script("announce", log("before"))], after: [script("flaky check", `${log("after")}; exit 3`)] },
        {
          items: ["app1", "app2"],
          before: [{ name: "confirm db", kind: "manual", instructions: "check the database answers" }],
          after: [script("warm caches", log("after"))],
        },
        { items: ["web"], before: [script("planned only", log("never"), { failoverTypes: ["planned"] })], after: [script("open traffic", log("after"))] },
      ],
    });
    const shown = await engine.getPlan("shop");
    assert.deepEqual(
      shown.groups.map((g) => g.items),
      [["db"], ["app1", "app2"], ["web"]],
    );

    const first = await engine.runPlan("shop", { type: "unplanned", point: "latest-processed" });
    assert.equal(first.state, "Suspended", JSON.stringify(first.error));
    const group2 = first.tasks[1];
    assert.equal(group2.state, "Suspended");
    assert.equal(group2.children[0].state, "Suspended");
    assert.match(group2.children[0].detail!, /WaitingForManualAction: check the database answers/);
    assert.deepEqual(
      group2.children.slice(1).map((t) => t.state),
      ["NotStarted", "NotStarted", "NotStarted"],
    );
    assert.equal(first.tasks[2].state, "NotStarted");
    assert.deepEqual([(await engine.item("db")).activeSite, (await engine.item("app1")).activeSite], ["recovery", "primary"]);
    assert.deepEqual((await fs.readFile(order, "utf8")).trim().split("\n"), ["before-1-unplanned", "start-db", "after-1-unplanned"]);

    const resumed = await engine.resumeJob(first.id);
    assert.equal(resumed.id, first.id);
    assert.equal(resumed.state, "Failed", "group 1's failed check is reported at the end");
    assert.match(resumed.error!.message, /Group 1: .*flaky check.*exited with 3/);
    const lines = (await fs.readFile(order, "utf8")).trim().split("\n");
    assert.deepEqual(lines.slice(0, 3), ["before-1-unplanned", "start-db", "after-1-unplanned"]);
    assert.deepEqual(lines.slice(3, 5).sort(), ["start-app1", "start-app2"]);
    assert.deepEqual(lines.slice(5), ["after-2-unplanned", "start-web", "after-3-unplanned"], "the planned-only action was skipped");
    for (const name of ["db", "app1", "app2", "web"]) assert.equal((await engine.item(name)).activeSite, "recovery", `${name} failed over`);
    assert.deepEqual(
      resumed.tasks.map((t) => t.state),
      ["Failed", "Succeeded", "Succeeded"],
    );
    await assert.rejects(engine.resumeJob(first.id), /only a suspended recovery plan can be resumed/);
  });

  it("a planned run stops at the first failure; a test run drills every machine; a mixed plan needs a direction", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    for (const name of ["a", "b"]) await machine(engine, dir, name);
    await engine.addPlan({
      name: "two",
      groups: [{ items: ["a"], before: [script("pre-flight", "exit 1", { failoverTypes: ["planned"] })] }, { items: ["b"] }],
    });
    const planned = await engine.runPlan("two", { type: "planned" });
    assert.equal(planned.state, "Failed");
    assert.match(planned.error!.message, /pre-flight.*exited with 1/);
    assert.deepEqual(
      planned.tasks.map((t) => t.state),
      ["Failed", "NotStarted"],
    );
    assert.deepEqual([(await engine.item("a")).activeSite, (await engine.item("b")).activeSite], ["primary", "primary"]);

    const test = await engine.runPlan("two", { type: "test", point: "latest-processed" });
    assert.equal(test.state, "Succeeded", JSON.stringify(test.error));
    for (const name of ["a", "b"]) {
      assert.ok((await fs.stat(path.join(dir, "dr", `${name}-test`, "os"))).isFile(), `${name} has a drill copy`);
      assert.equal((await engine.drillCleanup(name)).state, "Succeeded");
    }

    assert.equal((await engine.failover("a", { type: "unplanned", point: "latest-processed" })).state, "Succeeded");
    await assert.rejects(engine.runPlan("two", { type: "unplanned" }), /choose a direction/);
    const onward = await engine.runPlan("two", { type: "unplanned", direction: "primary-to-recovery", point: "latest-processed" });
    assert.equal(onward.state, "Succeeded", JSON.stringify(onward.error));
    assert.equal((await engine.item("b")).activeSite, "recovery");
  });

  it("rejects bad plans with the field and the reason, and stores nothing", async () => {
    const dir = tempDir();
    const { engine } = await recoveryVault(dir);
    await machine(engine, dir, "a");
    const attempt = (spec: unknown) =>
      engine.addPlan(spec).then(
        () => assert.fail("accepted"),
        (e: ValidationError) => e.failures,
      );
    assert.deepEqual(await attempt({ name: "p", groups: [{ items: ["a", "ghost"] }] }), [
      { property: "groups.0.items.1", reason: "no protected item named 'ghost'" },
    ]);
    assert.deepEqual((await attempt({ name: "p", groups: [{ items: ["a"] }, { items: ["a"] }] }))[0], {
      property: "groups.1.items.0",
      reason: "'a' is already in group 1",
    });
    assert.equal((await attempt({ name: "p", groups: [{ items: ["a"], before: [{ name: "x", kind: "script" }] }] }))[0].property, "groups.0.before.0.command");
    const many = Array.from({ length: 101 }, (_, i) => `m${i}`);
    assert.match((await attempt({ name: "p", groups: [{ items: many }] })).map((f) => f.reason).join(), /at most 100 machines/);
    assert.deepEqual(await engine.listPlans(), []);
  });
});
