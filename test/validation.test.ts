import { strict as assert } from "node:assert";
import * as path from "node:path";
import Database from "better-sqlite3";
import { ValidationError } from "../schema";
import { makeDisk, newVault, snapshotTree, tempDir } from "./helpers";

/** Every row of every catalog table plus the store's files: equal snapshots mean nothing was written. */
async function vaultSnapshot(vaultDir: string): Promise<string> {
  const db = new Database(path.join(vaultDir, "catalog.sqlite"), { readonly: true });
  const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all() as Array<{ name: string }>;
  const dump = tables.map((t) => JSON.stringify([t.name, db.prepare(`select * from "${t.name}"`).all()]));
  db.close();
  return [...dump, ...(await snapshotTree(path.join(vaultDir, "store")).catch(() => []))].join("\n");
}

describe("bad input gets a clear error naming the field, and changes nothing", () => {
  let engine: Awaited<ReturnType<typeof newVault>>["engine"];
  let dir: string;
  let disk: string;

  before(async () => {
    dir = tempDir();
    ({ engine } = await newVault(dir));
    disk = path.join(dir, "os.img");
    await makeDisk(disk, 2);
    await engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
  });

  const cases: Array<[string, () => Promise<unknown>, string, RegExp]> = [
    ["unknown copy frequency", () => engine.addPolicy({ name: "p1", copyFrequency: "1m" }), "copyFrequency", /30s.*5m.*15m/],
    ["retention of 100 hours", () => engine.addPolicy({ name: "p2", retentionHours: 100 }), "retentionHours", /at most 72/],
    [
      "app-consistent frequency above the retention",
      () => engine.addPolicy({ name: "p3", retentionHours: 4, appConsistentHours: 6 }),
      "appConsistentHours",
      /must not exceed the recovery point retention \(4 hours\)/,
    ],
    [
      "a policy update that breaks the same rule",
      () => engine.updatePolicy("gold", { appConsistentHours: 48, retentionHours: 24 }),
      "appConsistentHours",
      /must not exceed/,
    ],
    ["duplicate policy name", () => engine.addPolicy({ name: "gold" }), "name", /already exists/],
    ["duplicate site name", () => engine.addSite({ name: "hq", kind: "physical" }), "name", /already exists/],
    ["unknown site kind", () => engine.addSite({ name: "s2", kind: "cloud" }), "kind", /hyperv/],
    [
      "missing disk path",
      () =>
        engine.protect({
          name: "vm2",
          site: "hq",
          policy: "gold",
          disks: [
            { name: "os", path: disk, os: true },
            { name: "d", path: path.join(dir, "nope.img") },
          ],
        }),
      "disks.1.path",
      /does not exist/,
    ],
    [
      "excluded OS disk",
      () => engine.protect({ name: "vm2", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }], excludedDisks: ["os"] }),
      "excludedDisks.0",
      /OS disk, which cannot be excluded/,
    ],
    [
      "duplicate item name",
      () => engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] }),
      "name",
      /already exists/,
    ],
    [
      "duplicate disk name",
      () =>
        engine.protect({
          name: "vm2",
          site: "hq",
          policy: "gold",
          disks: [
            { name: "os", path: disk, os: true },
            { name: "os", path: disk },
          ],
        }),
      "disks.1.name",
      /duplicate disk name/,
    ],
    [
      "no OS disk",
      () => engine.protect({ name: "vm2", site: "hq", policy: "gold", disks: [{ name: "d", path: disk }] }),
      "disks",
      /exactly one disk must be the OS disk/,
    ],
    [
      "unknown policy and site",
      () => engine.protect({ name: "vm2", site: "nowhere", policy: "silver", disks: [{ name: "os", path: disk, os: true }] }),
      "site",
      /no site named 'nowhere'/,
    ],
    [
      "pause without resume",
      () => engine.protect({ name: "vm2", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }], hooks: { pause: "true" } }),
      "hooks.resume",
      /given together/,
    ],
    ["an unknown property", () => engine.addPolicy({ name: "p4", copyFrequncy: "5m" }), "copyFrequncy", /not a known property/],
    ["a bad name", () => engine.addSite({ name: "../etc", kind: "physical" }), "name", /letters, digits/],
  ];

  for (const [what, attempt, property, reason] of cases) {
    it(what, async () => {
      const before = await vaultSnapshot(engine.vault.dir);
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
      const failure = error.failures.find((f) => f.property === property);
      assert.ok(failure, `no failure for '${property}' in ${JSON.stringify(error.failures)}`);
      assert.match(failure.reason + " " + error.message, reason);
      assert.equal(await vaultSnapshot(engine.vault.dir), before, "the vault is unchanged");
    });
  }

  it("reports every failing property at once", async () => {
    const error = await engine
      .protect({ name: "vm2", site: "nowhere", policy: "silver", disks: [{ name: "os", path: path.join(dir, "gone.img"), os: true }] })
      .catch((e: ValidationError) => e);
    assert.deepEqual((error as ValidationError).failures.map((f) => f.property).sort(), ["disks.0.path", "policy", "site"]);
  });
});
