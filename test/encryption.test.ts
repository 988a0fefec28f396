import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { buildServer } from "../engine/server/app";
import { Agent } from "../agent/agent";
import { Engine, type EngineError } from "../engine";
import { lifeboat, spawnLifeboat } from "./cli";
import { makeDisk, newVault, tempDir } from "./helpers";
import { SealingKey } from "../engine/store/encrypt/sealing-key";

const BLOCK = 65536;

/** Every file under a directory, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out.sort();
}

/** Each file's name and SHA-256: for "nothing was written" checks (a new -wal file shows as well). */
async function treeHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await filesUnder(dir))
    out[path.relative(dir, file)] = createHash("sha256")
      .update(await fs.readFile(file))
      .digest("hex");
  return out;
}

/**
 * The first piece of the disk found verbatim in any of the files, or undefined: each non-zero block
 * whole, 8 random 32-byte samples of it, and its raw 32-byte id (which a manifest in the clear holds).
 */
async function leakOf(disk: string, files: string[], blockSize = BLOCK): Promise<string | undefined> {
  const image = await fs.readFile(disk);
  const contents = await Promise.all(files.map(async (f) => ({ f, bytes: await fs.readFile(f) })));
  for (let offset = 0; offset < image.length; offset += blockSize) {
    const block = image.subarray(offset, offset + blockSize);
    if (block.every((b) => b === 0)) continue;
    const needles: Array<[string, Buffer]> = [
      ["block", block],
      ["block id", createHash("sha256").update(block).digest()],
    ];
    for (let n = 0; n < 8; n++) {
      const at = Math.floor(Math.random() * (block.length - 32));
      needles.push([`32 bytes at ${at} of the block`, block.subarray(at, at + 32)]);
    }
    for (const { f, bytes } of contents)
      for (const [what, needle] of needles) if (bytes.includes(needle)) return `${what} at disk offset ${offset} found in ${f}`;
  }
  return undefined;
}

/** An item "vm" protected on a 64-block disk of random data (block 0 is zero), in a vault whose KEK is in keyFile. */
async function protectedVault(dir: string, options: { blockSize?: number; blocks?: number } = {}) {
  const keyFile = path.join(dir, "keys", "vault.key");
  const v = await newVault(dir, { key: { keyFile }, blockSize: options.blockSize });
  const disk = path.join(dir, "os.img");
  await makeDisk(disk, options.blocks ?? 64, 1_000_000);
  const job = await v.engine.protect({ name: "vm", site: "hq", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
  assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
  return { ...v, disk, keyFile, vaultDir: path.join(dir, "vault") };
}

/** The error code and message of a failed materialize, after checking that no disk file was left under its name. */
async function failedMaterialize(engine: Engine, out: string): Promise<{ code?: string; message?: string }> {
  const job = await engine.materialize("vm", "latest", out);
  assert.equal(job.state, "Failed", JSON.stringify(job));
  await assert.rejects(fs.access(path.join(out, "os")), "no disk under its final name");
  return { code: job.error?.code, message: job.error?.message };
}

/** Where each block of the store lies, from the catalog's index. */
async function locations(engine: Engine) {
  return engine.vault.db.selectFrom("blocks").selectAll().orderBy("pack").orderBy("offset").execute();
}

describe("encryption at rest", () => {
  it("stores no block of a disk, no 32-byte piece of it and no block id in the clear, in packs or catalog; materialize is byte-exact", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    // A delta cycle too: its blocks and manifests go the same way.
    const handle = await fs.open(v.disk, "r+");
    await handle.write(randomBytes(3 * BLOCK), 0, 3 * BLOCK, 10 * BLOCK);
    await handle.close();
    v.clock.advance(31_000);
    assert.equal((await v.engine.replicateNow("vm")).state, "Succeeded");
    const out = path.join(dir, "out");
    assert.equal((await v.engine.materialize("vm", "latest", out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(v.disk)), "materialized byte-exact");
    assert.equal((await v.engine.status()).vault.encryption.cipher, "aes-256-gcm");
    await v.engine.close();

    const files = await filesUnder(v.vaultDir);
    assert.ok(
      files.some((f) => f.endsWith(".pack")),
      "packs were written",
    );
    assert.ok(files.some((f) => f.endsWith("catalog.sqlite")));
    assert.equal(await leakOf(v.disk, files), undefined);
  });

  it("refuses a wrong key from the environment, a key file or a key command, changing no file of the vault", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    await v.engine.close();
    const kek = (await fs.readFile(v.keyFile, "utf8")).trim();
    const otherKey = path.join(dir, "other.key");
    await fs.writeFile(otherKey, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
    // No $LIFEBOAT_KEY_DIR: a command given no key finds no default key file either.
    const status = (args: string[], env: Record<string, string> = {}) =>
      lifeboat(["--vault", v.vaultDir, "--json", ...args, "status"], { LIFEBOAT_KEY_DIR: path.join(dir, "no-keys"), ...env });

    const before = await treeHashes(v.vaultDir);
    const refusals: Array<[string, string[], Record<string, string>, string, string]> = [
      ["LIFEBOAT_VAULT_KEY", [], { LIFEBOAT_VAULT_KEY: randomBytes(32).toString("base64") }, "WrongKey", "LIFEBOAT_VAULT_KEY"],
      ["--key-file", ["--key-file", otherKey], {}, "WrongKey", "keyFile"],
      ["--key-command", ["--key-command", `echo ${randomBytes(32).toString("hex")}`], {}, "WrongKey", "keyCommand"],
      ["LIFEBOAT_KEY_COMMAND", [], { LIFEBOAT_KEY_COMMAND: `echo ${randomBytes(32).toString("hex")}` }, "WrongKey", "keyCommand"],
      ["a failing key command", ["--key-command", "echo 'vault locked' >&2; exit 3"], {}, "KeyUnavailable", "keyCommand"],
      ["a key command printing no key", ["--key-command", "echo hello"], {}, "InvalidKey", "keyCommand"],
      ["no key at all", [], {}, "KeyNotFound", "keyFile"],
    ];
    for (const [what, args, env, code, field] of refusals) {
      const result = await status(args, env);
      assert.equal(result.code, 1, `${what}: exit 1 (${result.stderr})`);
      const error = JSON.parse(result.stderr).error;
      assert.deepEqual({ code: error.code, field: error.field }, { code, field }, `${what}: ${result.stderr}`);
      if (code === "WrongKey") assert.match(error.message, /does not hold the key of vault .*nothing was opened or changed/);
      assert.deepEqual(await treeHashes(v.vaultDir), before, `${what}: no file of the vault changed`);
    }
    const human = await lifeboat(["--vault", v.vaultDir, "--key-file", otherKey, "status"]);
    assert.match(human.stderr, /^error: the key file .*other\.key does not hold the key of vault /);

    // The right key, from each source, opens it.
    for (const [what, args, env] of [
      ["--key-file", ["--key-file", v.keyFile], {}],
      ["LIFEBOAT_VAULT_KEY", [], { LIFEBOAT_VAULT_KEY: kek }],
      ["LIFEBOAT_VAULT_KEY in hex", [], { LIFEBOAT_VAULT_KEY: Buffer.from(kek, "base64").toString("hex") }],
      ["--key-command", ["--key-command", `test "$LIFEBOAT_VAULT_ID" = "${v.engine.vault.id}" && cat '${v.keyFile}'`], {}],
    ] as Array<[string, string[], Record<string, string>]>) {
      const result = await status(args, env);
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      assert.equal(JSON.parse(result.stdout).items[0].name, "vm");
    }

    // A key file others may read is refused, as ssh refuses such a private key.
    await fs.chmod(v.keyFile, 0o644);
    const exposed = await status(["--key-file", v.keyFile]);
    assert.equal(JSON.parse(exposed.stderr).error.code, "InsecureKeyFile");
  });

  it("vault init makes a 0600 key file outside the vault by default, and takes a key command's key", async () => {
    const dir = tempDir();
    const config = path.join(dir, "config");
    const vaultDir = path.join(dir, "vault");
    const init = await lifeboat(["--vault", vaultDir, "--json", "vault", "init"], { LIFEBOAT_KEY_DIR: "", XDG_CONFIG_HOME: config });
    assert.equal(init.code, 0, init.stderr);
    const marker = JSON.parse(await fs.readFile(path.join(vaultDir, "vault.json"), "utf8"));
    const keyFile = path.join(config, "lifeboat", "keys", `${marker.id}.key`);
    assert.deepEqual(JSON.parse(init.stdout).encryption, { cipher: "aes-256-gcm", key: `key file ${keyFile}` });
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.dirname(keyFile))).mode & 0o777, 0o700);
    const kek = (await fs.readFile(keyFile, "utf8")).trim();
    for (const file of await filesUnder(vaultDir)) assert.ok(!(await fs.readFile(file, "latin1")).includes(kek), `the key is not in ${file}`);
    assert.deepEqual(Object.keys(marker.encryption).sort(), ["cipher", "keyCheck", "wrappedKey"]);
    const human = await lifeboat(["--vault", vaultDir, "status"], { LIFEBOAT_KEY_DIR: "", XDG_CONFIG_HOME: config });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /stored \(encrypted, aes-256-gcm\)/);

    // A KMS hook: the command prints the KEK, for the new vault as for an existing one; no key file is made.
    const kms = path.join(dir, "kms.key");
    await fs.writeFile(kms, randomBytes(32).toString("hex"));
    const command = `cat '${kms}'`;
    const other = path.join(dir, "vault2");
    const keyDir = path.join(dir, "keys2");
    const withCommand = await lifeboat(["--vault", other, "--key-command", command, "vault", "init"], { LIFEBOAT_KEY_DIR: keyDir });
    assert.equal(withCommand.code, 0, withCommand.stderr);
    assert.match(withCommand.stdout, /key-encryption key: key command/);
    await assert.rejects(fs.access(keyDir), "no key file is made for a key command");
    assert.equal((await lifeboat(["--vault", other, "--key-command", command, "site", "add", "hq", "--kind", "physical"])).code, 0);
    const hex = (await fs.readFile(kms, "utf8")).trim();
    assert.equal((await lifeboat(["--vault", other, "status"], { LIFEBOAT_VAULT_KEY: hex })).code, 0);
    assert.equal(JSON.parse((await lifeboat(["--vault", other, "--json", "status"], { LIFEBOAT_KEY_DIR: keyDir })).stderr).error.code, "KeyNotFound");
  });

  it("lifeboat serve takes the key flags: the right key serves the vault, a wrong one stops it before anything is written", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    await v.engine.close();
    const wrong = path.join(dir, "wrong.key");
    await fs.writeFile(wrong, randomBytes(32).toString("base64"), { mode: 0o600 });
    const before = await treeHashes(v.vaultDir);
    const refused = await lifeboat(["--vault", v.vaultDir, "--json", "serve", "--port", "0", "--key-file", wrong]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(JSON.parse(refused.stderr).error.code, "WrongKey");
    assert.deepEqual(await treeHashes(v.vaultDir), before, "no file of the vault changed (no admin token, no lock, no catalog write)");

    const daemon = spawnLifeboat(["--vault", v.vaultDir, "serve", "--port", "0", "--key-file", v.keyFile]);
    const closed = new Promise((r) => daemon.once("close", r));
    try {
      let log = "";
      daemon.stdout!.on("data", (c) => (log += c));
      daemon.stderr!.on("data", (c) => (log += c));
      while (!/API at (\S+);/.test(log) && daemon.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const endpoint = /API at (\S+);/.exec(log)?.[1];
      assert.ok(endpoint, log);
      const token = (await fs.readFile(path.join(v.vaultDir, "admin.token"), "utf8")).trim();
      const info = await fetch(new URL("/v1/vault", endpoint), { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.json() as Promise<{ encryption: unknown }>,
      );
      assert.deepEqual(info.encryption, { cipher: "aes-256-gcm", key: `key file ${v.keyFile}` });
    } finally {
      daemon.kill("SIGTERM");
      await closed;
    }
  });

  it("vault change-key wraps the data key with a new KEK: the old key opens the vault no more, the data reads as before", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    await v.engine.close();
    const next = path.join(dir, "next", "vault.key");
    const changed = await lifeboat(["--vault", v.vaultDir, "--key-file", v.keyFile, "--json", "vault", "change-key", "--new-key-file", next]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(JSON.parse(changed.stdout).encryption, { cipher: "aes-256-gcm", key: `key file ${next}` });
    assert.equal((await fs.stat(next)).mode & 0o777, 0o600);
    const old = await lifeboat(["--vault", v.vaultDir, "--key-file", v.keyFile, "--json", "status"]);
    assert.equal(JSON.parse(old.stderr).error.code, "WrongKey");
    const out = path.join(dir, "out");
    const materialized = await lifeboat(["--vault", v.vaultDir, "--key-file", next, "materialize", "vm", "--point", "latest", "--out", out]);
    assert.equal(materialized.code, 0, materialized.stderr);
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(v.disk)));
    const neither = await lifeboat(["--vault", v.vaultDir, "--key-file", next, "vault", "change-key"]);
    assert.equal(neither.code, 2, "no new key given: bad input");
  });

  it("a vault made before encryption at rest opens as it is, unencrypted, and says so", async () => {
    const dir = tempDir();
    const vaultDir = path.join(dir, "vault");
    const { engine } = await Engine.init(vaultDir, { unencrypted: true });
    await engine.close();
    // What vault.json held before this change.
    const marker = JSON.parse(await fs.readFile(path.join(vaultDir, "vault.json"), "utf8"));
    await fs.writeFile(path.join(vaultDir, "vault.json"), JSON.stringify({ format: 1, id: marker.id, createdAt: marker.createdAt }, null, 2));
    const status = await lifeboat(["--vault", vaultDir, "--json", "status"], { LIFEBOAT_KEY_DIR: path.join(dir, "no-keys") });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).vault.encryption, { cipher: "none", key: null });
    assert.match(status.stderr, /warning: vault .* predates encryption at rest: its blocks and manifests are stored unencrypted/);
  });

  it("a sealed block's head reads without opening it (decode workers are sized by it); the whole opens only with its own id", () => {
    const key = SealingKey.generate();
    const id = createHash("sha256").update("block").digest("hex");
    for (const data of [randomBytes(65537), randomBytes(20), randomBytes(5)]) {
      const sealed = key.seal("block", id, data);
      assert.equal(sealed.length, data.length + 29);
      for (const bytes of [1, 16, 19, 32]) assert.ok(key.peek(sealed, bytes)!.equals(data.subarray(0, bytes)), `${bytes} bytes of ${data.length}`);
      assert.ok(key.open("block", id, sealed)!.equals(data));
      assert.equal(key.open("block", createHash("sha256").update("other").digest("hex"), sealed), undefined, "another id");
      assert.equal(key.open("manifest-chunk", id, sealed), undefined, "another purpose");
      assert.equal(SealingKey.generate().open("block", id, sealed), undefined, "another key");
    }
  });

  it("a flipped byte in a pack fails materialize as damage (BlockDamaged), and a read of the block says so", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    const [victim] = await locations(v.engine);
    const pack = path.join(v.vaultDir, "store", victim.pack);
    const bytes = await fs.readFile(pack);
    bytes[victim.offset + Math.floor(victim.length / 2)] ^= 0x01;
    await fs.writeFile(pack, bytes);
    const failure = await failedMaterialize(v.engine, path.join(dir, "out"));
    assert.equal(failure.code, "BlockDamaged", JSON.stringify(failure));
    await assert.rejects(v.engine.vault.store.get(victim.id), (e: EngineError) => e.code === "BlockDamaged" && /fails authentication/.test(e.message));
  });

  it("a block's stored bytes swapped with another's (same length) are detected: no read returns the other block's data", async () => {
    const dir = tempDir();
    const v = await protectedVault(dir);
    const all = await locations(v.engine);
    const a = all[0];
    const b = all.find((e) => e !== a && e.pack === a.pack && e.length === a.length)!;
    assert.ok(b, "two blocks of one length in one pack");
    const pack = path.join(v.vaultDir, "store", a.pack);
    const bytes = await fs.readFile(pack);
    const copyA = Buffer.from(bytes.subarray(a.offset, a.offset + a.length));
    bytes.copy(bytes, a.offset, b.offset, b.offset + b.length);
    copyA.copy(bytes, b.offset);
    await fs.writeFile(pack, bytes);
    // The store itself refuses the swapped block (materialize would also see its hash differ).
    await assert.rejects(v.engine.vault.store.get(a.id), (e: EngineError) => e.code === "BlockDamaged");
    await assert.rejects(v.engine.vault.store.get(b.id), (e: EngineError) => e.code === "BlockDamaged");
    assert.equal((await failedMaterialize(v.engine, path.join(dir, "out"))).code, "BlockDamaged");
  });

  it("manifest chunks are sealed with their ids: two chunks swapped in the catalog fail materialize instead of restoring blocks in the wrong places", async () => {
    const dir = tempDir();
    // 4 KiB blocks: 512 blocks make two full manifest chunks (256 ids each) of a 2 MiB disk.
    const v = await protectedVault(dir, { blockSize: 4096, blocks: 32 });
    const chunks = await v.engine.vault.db.selectFrom("manifest_chunks").selectAll().execute();
    const full = chunks.filter((c) => c.data.length === chunks[0].data.length);
    assert.ok(full.length >= 2, `two chunks of one length (${chunks.map((c) => c.data.length)})`);
    await v.engine.close();
    const db = new Database(path.join(v.vaultDir, "catalog.sqlite"));
    const swap = db.prepare("UPDATE manifest_chunks SET data = ? WHERE id = ?");
    db.transaction(() => {
      swap.run(full[1].data, full[0].id);
      swap.run(full[0].data, full[1].id);
    })();
    db.close();
    const engine = await Engine.open(v.vaultDir, { key: { keyFile: v.keyFile } });
    after(() => engine.close());
    const failure = await failedMaterialize(engine, path.join(dir, "out"));
    assert.equal(failure.code, "ChainBroken", JSON.stringify(failure));
    assert.match(failure.message ?? "", /manifest chunk .* fails authentication/);
  });

  it("an agent seals the blocks it writes with the vault's data key, fetched over its channel; the engine reads them", async () => {
    const dir = tempDir();
    const v = await newVault(dir);
    const app = buildServer(v.engine);
    const endpoint = await app.listen({ host: "127.0.0.1", port: 0 });
    after(() => app.close());
    const workDir = path.join(dir, "agent");
    const agent = await Agent.start({ engine: endpoint, host: "host2", site: "hq", registrationKey: v.registrationKey, workDir });
    const disk = path.join(dir, "os.img");
    await makeDisk(disk, 64, 1_000_000);
    const job = await v.engine.protect({ name: "vm", site: "hq", host: "host2", policy: "gold", disks: [{ name: "os", path: disk, os: true }] });
    await agent.once();
    assert.equal((await v.engine.job(job.id)).state, "Succeeded");
    const out = path.join(dir, "out");
    assert.equal((await v.engine.materialize("vm", "latest", out)).state, "Succeeded");
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(disk)), "materialized byte-exact");
    const vaultFiles = await filesUnder(path.join(dir, "vault"));
    assert.ok(vaultFiles.some((f) => f.endsWith(".pack")));
    assert.equal(await leakOf(disk, vaultFiles), undefined);
    const key = v.engine.vault.dataKey!.bytes();
    for (const file of await filesUnder(workDir))
      assert.ok(!(await fs.readFile(file)).includes(key.toString("base64")), "the agent keeps the data key in memory only");
  });
});
