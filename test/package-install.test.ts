// A user's view of the package: `npm pack` makes the tarball, a fresh Pulumi project installs it with
// @pulumi/pulumi (no link to this repository, no dev dependencies), type-checks a TypeScript program
// against the shipped declarations, and deploys it through the harness (the project's own SDK runs it)
// on the embedded default: the installed package starts the vault's daemon itself.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { DAEMON_FILE, type DaemonRecord } from "../engine/server/daemon-files";
import { harness, ok, ops, outputsOf } from "./pulumi-helpers";
import { makeDisk, tempDir } from "./helpers";
import { waitFor } from "./wait";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..");
/** Installs can take a while on a busy machine; nothing here waits for a fixed delay. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

const versionOf = (dir: string, pkg: string): string => JSON.parse(fs.readFileSync(path.join(dir, "node_modules", pkg, "package.json"), "utf8")).version;

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as lifeboat from "lifeboat";

const config = new pulumi.Config();
const vault = new lifeboat.Vault("vault", { path: config.require("vaultDir") });
const hq = new lifeboat.Site("hq", { vault: vault.path, kind: "hyperv", hosts: ["hv01"] });
const dr = new lifeboat.Site("dr", { vault: vault.path, kind: "recovery", path: config.require("recoveryDir") });
const gold = new lifeboat.ReplicationPolicy("gold", { vault: vault.path, copyFrequency: "5m", retentionHours: 2 });
const db = new lifeboat.ProtectedItem("db", {
  vault: vault.path,
  site: hq.name,
  host: "hv01",
  policy: gold.name,
  disks: [{ name: "os", path: config.require("diskPath"), os: true }],
  recovery: { site: dr.name },
});

export const health = db.health;
export const protectionState = db.protectionState;
`;

/** Packages of this repository's dev dependencies: none may reach a user's project. */
const DEV_ONLY = ["mocha", "playwright-core", "@types/mocha", "@types/better-sqlite3", "esbuild", "@biomejs/biome"];

describe("the package as a user installs it (npm pack, a fresh Pulumi project)", function () {
  this.timeout(INSTALL_TIMEOUT_MS + 5 * 60_000);
  const root = tempDir("package-install-");
  const project = path.join(root, "project");
  const stateDir = path.join(root, "state");
  const vaultDir = path.join(root, "vault");
  const deploy = harness(project, stateDir, {
    vaultDir,
    recoveryDir: path.join(root, "recovery"),
    diskPath: path.join(root, "disks", "db-os.img"),
  });
  const saved = { endpoint: process.env.LIFEBOAT_ENDPOINT, token: process.env.LIFEBOAT_TOKEN };

  before(async () => {
    // The embedded default: no endpoint, so the installed provider starts its own daemon.
    delete process.env.LIFEBOAT_ENDPOINT;
    delete process.env.LIFEBOAT_TOKEN;
    fs.mkdirSync(path.join(root, "disks"));
    await makeDisk(path.join(root, "disks", "db-os.img"), 32);
    // The tree is built already (npm test builds first); prepare would only build it again.
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], { cwd: REPO, maxBuffer: 64 << 20 });
    const tarball = path.join(root, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0].filename);

    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: lifeboat-user\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "lifeboat-user", private: true, main: "index.ts" }, null, 2));
    fs.writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", esModuleInterop: true, noEmit: true },
          files: ["index.ts"],
        },
        null,
        2,
      ),
    );
    fs.writeFileSync(path.join(project, "index.ts"), PROGRAM);
    // The versions this repository was tested with, from npm's cache when it has them (npm ci filled it).
    const sdk = ["@pulumi/pulumi", "typescript", "ts-node"].map((pkg) => `${pkg}@${versionOf(REPO, pkg)}`);
    // Install scripts of native dependencies compile them from source here (about 2 minutes, no prebuilt
    // binaries are reachable): they are skipped, and the binaries this repository built are copied in below.
    await run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball, ...sdk], {
      cwd: project,
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 64 << 20,
    });
    for (const native of ["better-sqlite3", "zstd-napi"]) {
      assert.equal(versionOf(project, native), versionOf(REPO, native), `${native} as this repository built it`);
      fs.cpSync(path.join(REPO, "node_modules", native, "build", "Release"), path.join(project, "node_modules", native, "build", "Release"), {
        recursive: true,
        filter: (file) => !file.includes(`${path.sep}obj`),
      });
    }
  });
  after(() => {
    Object.assign(
      process.env,
      Object.fromEntries(Object.entries({ LIFEBOAT_ENDPOINT: saved.endpoint, LIFEBOAT_TOKEN: saved.token }).filter(([, v]) => v !== undefined)),
    );
  });

  it("installs a copy of the package with its compiled code and declarations only, and no dev dependencies", () => {
    const installed = path.join(project, "node_modules", "lifeboat");
    assert.equal(fs.lstatSync(installed).isSymbolicLink(), false, "a copy, not a link to the repository");
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/provider/runtime/index.js", "dist/cli/main.js", "README.md"]) {
      assert.ok(fs.existsSync(path.join(installed, file)), `${file} is in the package`);
    }
    assert.match(
      fs.readFileSync(path.join(installed, "dist/engine/server/dashboard/app.js"), "utf8"),
      /function rpoChart/,
      "the dashboard's bundled script is in the package",
    );
    for (const file of ["dist/test", "dist/bench", "engine", "test", "node_modules/lifeboat"])
      assert.equal(fs.existsSync(path.join(installed, file)), false, `${file} is not`);
    for (const pkg of DEV_ONLY) assert.equal(fs.existsSync(path.join(project, "node_modules", pkg)), false, `${pkg} is not installed`);
    // One SDK for the program, the package and the provider: the package has no copy of its own.
    assert.equal(fs.existsSync(path.join(installed, "node_modules", "@pulumi", "pulumi")), false, "the package uses the project's @pulumi/pulumi");
  });

  it("type-checks a strict TypeScript program against the shipped declarations", async () => {
    await run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: project }).catch(
      (error: { stdout?: string; message: string }) => {
        assert.fail(`tsc failed:\n${error.stdout || error.message}`);
      },
    );
  });

  it("previews, deploys (starting the vault's daemon from the installed package) and destroys", async () => {
    const names = { vault: "create", hq: "create", dr: "create", gold: "create", db: "create" };
    assert.deepEqual(ops(ok(await deploy("preview"))), names);
    assert.equal(fs.existsSync(vaultDir), false, "preview makes no vault");

    const up = ok(await deploy("up"));
    assert.deepEqual(ops(up), names);
    assert.equal(outputsOf(up, "db").protectionState, "Protected");
    const record = JSON.parse(fs.readFileSync(path.join(vaultDir, DAEMON_FILE), "utf8")) as DaemonRecord;
    const cmdline = fs.readFileSync(`/proc/${record.pid}/cmdline`, "utf8").split("\0");
    assert.ok(
      cmdline.some((arg) => arg.startsWith(path.join(project, "node_modules", "lifeboat"))),
      `the daemon runs from the installed package: ${cmdline.join(" ")}`,
    );
    const script = await fetch(`${record.url}/dashboard/app.js`);
    assert.equal(script.status, 200, "the installed daemon serves the dashboard's script");
    assert.match(await script.text(), /function rpoChart/);
    const status = await run(
      process.execPath,
      [path.join(project, "node_modules", "lifeboat", "dist", "cli", "main.js"), "--vault", vaultDir, "--json", "status"],
      { cwd: project },
    );
    assert.deepEqual(
      (JSON.parse(status.stdout) as { items: Array<{ name: string; state: string }> }).items.map((i) => [i.name, i.state]),
      [["db", "Protected"]],
    );
    assert.deepEqual(ops(ok(await deploy("up"))), Object.fromEntries(Object.keys(names).map((n) => [n, "same"])));

    ok(await deploy("destroy"));
    await waitFor("the daemon to stop with the Vault", () => (fs.existsSync(`/proc/${record.pid}`) ? undefined : true));
  });
});
