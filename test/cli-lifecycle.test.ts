import { strict as assert } from "node:assert";
import * as path from "node:path";
import { vaultCli } from "./cli";
import { makeDisk, tempDir } from "./helpers";

describe("the lifeboat CLI: previews and removals", () => {
  let dir: string;
  const { run, ok } = vaultCli(() => path.join(dir, "vault"));

  before(async () => {
    dir = tempDir();
    await makeDisk(path.join(dir, "web.img"), 4);
    await ok("vault", "init");
    await ok("site", "add", "hq", "--kind", "hyperv");
    await ok("site", "add", "dr", "--kind", "recovery", "--path", path.join(dir, "dr"));
    await ok("policy", "add", "gold");
    await ok("protect", "web", "--site", "hq", "--policy", "gold", "--disk", `os=${path.join(dir, "web.img")}:os`, "--recovery-site", "dr");
    await ok("plan", "add", "all", "--group", "web");
  });

  it("failover --preview and plan run --preview print the impact (table or FailoverImpact) and run nothing", async () => {
    const points = JSON.parse((await ok("points", "web", "--json")).stdout) as Array<{ id: string }>;
    const table = (await ok("failover", "web", "--type", "unplanned", "--point", "latest-processed", "--preview")).stdout;
    assert.match(table, /preview of an unplanned failover \(primary-to-recovery\); nothing was changed/);
    assert.match(table, new RegExp(`1\\s+web\\s+primary\\s+${points[0].id}`));
    const planned = JSON.parse((await ok("plan", "run", "all", "--type", "planned", "--preview", "--json")).stdout);
    assert.match(planned.groups[0].items[0].refusal, /shutdown command/, "no shutdown hook: a planned run would be refused");
    const jobs = JSON.parse((await ok("jobs", "--json", "--target", "web")).stdout) as Array<{ type: string }>;
    assert.deepEqual(
      jobs.map((j) => j.type),
      ["EnableProtection"],
      "previews start no job",
    );
  });

  it("remove plan, unprotect, remove policy and site: refused while in use (exit 1, naming the users), then done in order", async () => {
    const used = await run("site", "remove", "hq");
    assert.equal(used.code, 1);
    assert.match(used.stderr, /site 'hq' is used by item 'web'/);
    assert.equal((await run("policy", "remove", "gold")).code, 1);
    await ok("plan", "remove", "all");
    assert.match((await ok("unprotect", "web")).stdout, /DisableProtection web: Succeeded/);
    assert.match((await ok("policy", "remove", "gold")).stdout, /removed policy gold and gold-failback/);
    await ok("site", "remove", "hq");
    assert.deepEqual(
      JSON.parse((await ok("site", "list", "--json")).stdout).map((s: { name: string }) => s.name),
      ["dr"],
    );
    assert.deepEqual(JSON.parse((await ok("policy", "list", "--json")).stdout), []);
  });
});
