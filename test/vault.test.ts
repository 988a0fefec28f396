import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { DAY, Engine, type EngineError, ManualClock } from "../engine";
import { VaultLock } from "../engine/lock";
import { tempDir } from "./helpers";
import { spawn } from "node:child_process";

describe("vault", () => {
  it("issues a registration key valid for 5 days, kept only as a hash, replaced by rotation", async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const { engine, registrationKey } = await Engine.init(path.join(dir, "v"), { clock });
    after(() => engine.close());
    assert.equal(await engine.vault.checkRegistrationKey(registrationKey), "valid");
    assert.equal(await engine.vault.checkRegistrationKey(registrationKey + "x"), "invalid");
    const files = await fs.readdir(path.join(dir, "v"));
    for (const file of files.filter((f) => f.startsWith("catalog"))) {
      assert.equal((await fs.readFile(path.join(dir, "v", file))).includes(registrationKey), false, `${file} does not hold the key`);
    }
    clock.advance(5 * DAY - 1);
    assert.equal(await engine.vault.checkRegistrationKey(registrationKey), "valid");
    clock.advance(1);
    assert.equal(await engine.vault.checkRegistrationKey(registrationKey), "expired");
    assert.equal((await engine.status()).vault.registrationKey.expired, true);
    const fresh = await engine.rotateRegistrationKey();
    assert.equal(await engine.vault.checkRegistrationKey(fresh), "valid");
    assert.equal(await engine.vault.checkRegistrationKey(registrationKey), "invalid", "the old key stops working");
  });

  it("is created only in an empty or new directory and opened only where one exists", async () => {
    const dir = tempDir();
    await fs.writeFile(path.join(dir, "something"), "x");
    await assert.rejects(Engine.init(dir), /is not empty/);
    await assert.rejects(Engine.open(path.join(dir, "none")), (e: EngineError) => e.code === "VaultNotFound");
    assert.deepEqual(await fs.readdir(dir), ["something"], "nothing was written");
  });

  it("is released by the kernel when its holder dies, and makes others wait while it lives", async () => {
    const dir = tempDir();
    const file = path.join(dir, "lock.sqlite");
    // Another process takes the lock and keeps it.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `
      const Database = require("better-sqlite3");
      const db = new Database(${JSON.stringify(file)});
      db.exec("BEGIN EXCLUSIVE");
      require("fs").writeFileSync(${JSON.stringify(file + ".holder")}, JSON.stringify({ pid: process.pid, host: "elsewhere" }));
      console.log("held");
      setInterval(() => {}, 1000);
    `,
      ],
      { cwd: path.resolve(__dirname, ".."), stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise((resolve) => holder.stdout!.once("data", resolve));
    const lock = new VaultLock(file);
    after(() => lock.close());
    await assert.rejects(
      lock.run(async () => "ran", 300),
      (e: EngineError) => e.code === "VaultBusy" && e.message.includes(`process ${holder.pid} on elsewhere`),
    );
    const waiting = lock.run(async () => "ran after the holder died");
    holder.kill("SIGKILL");
    assert.equal(await waiting, "ran after the holder died");
  });
});
