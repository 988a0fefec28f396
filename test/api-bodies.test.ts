import { strict as assert } from "node:assert";
import { promises as fs, symlinkSync } from "node:fs";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import type { z } from "zod";
import { routes, type ServedRoute } from "../engine/server/routes";
import { agentRoutes } from "../engine/server/agent-routes";
import { bodySchema } from "../engine/server/body";
import { EngineClient } from "../client/engine-client";
import { lifeboat, spawnLifeboat } from "./cli";
import { makeDisk, snapshotTree, tempDir } from "./helpers";

const ALL: ServedRoute[] = [...routes, ...agentRoutes];
const WITH_BODY = ALL.filter((r) => ["POST", "PUT", "PATCH"].includes(r.method));

/** What a hostile or confused client puts where an object or a field belongs. */
const JUNK: unknown[] = [["/somewhere"], 4242, { junk: true }, null, true, "?", ""];

interface Answer {
  status: number;
  body: {
    error?: { code: string; message: string; field?: string; failures?: Array<{ property: string; reason: string }> };
    failures?: Array<{ property: string; reason: string }>;
  };
  text: string;
}

/** The daemon refused the body with 400 InvalidInput, naming `property` (or a property inside it). */
function refusedNaming(answer: Answer, property: string, what: string): void {
  assert.equal(answer.status, 400, `${what} answered ${answer.status}: ${answer.text}`);
  assert.equal(answer.body.error?.code, "InvalidInput", what);
  const named = (answer.body.error?.failures ?? []).map((f) => f.property);
  assert.ok(
    named.some((p) => p === property || p.startsWith(`${property}.`)),
    `${what}: ${property} not named in ${JSON.stringify(named)}`,
  );
}

/** Dotted paths ("*" for any array index or record key) of the properties a JSON schema marks `format: "path"`. */
function pathProperties(schema: unknown, at: string[] = []): string[] {
  if (!schema || typeof schema !== "object") return [];
  const s = schema as {
    format?: string;
    properties?: Record<string, unknown>;
    items?: unknown;
    additionalProperties?: unknown;
    anyOf?: unknown[];
    allOf?: unknown[];
    oneOf?: unknown[];
  };
  if (s.format === "path") return [at.join(".")];
  return [
    ...Object.entries(s.properties ?? {}).flatMap(([key, value]) => pathProperties(value, [...at, key])),
    ...pathProperties(s.items, [...at, "*"]),
    ...pathProperties(s.additionalProperties, [...at, "*"]),
    ...[...(s.anyOf ?? []), ...(s.allOf ?? []), ...(s.oneOf ?? [])].flatMap((alt) => pathProperties(alt, at)),
  ];
}

/**
 * Every API body is validated by its zod schema before anything uses it, against the real daemon
 * (`lifeboat serve`, a separate process on 127.0.0.1). The daemon runs in a directory outside the paths it
 * allows, so a path that slipped through as a number or an array (String([...]), a relative "4242") would
 * land there: that directory must stay empty, and the catalog unchanged, whatever is sent.
 */
describe("API bodies: validated by their schemas before use (real daemon)", () => {
  let dir: string;
  let allowed: string;
  let outside: string;
  let vault: string;
  let daemon: ChildProcess;
  let endpoint: string;
  let admin: string;
  let agentToken: string;
  let spareToken: string;
  let api: EngineClient;
  /** Real names for the names in the routes' URLs, so a body that got through would act on something. */
  const names: Record<string, string> = {
    site: "dr",
    policy: "gold",
    item: "web",
    plan: "dr-plan",
    token: "spare",
    host: "host2",
    network: "dr-net",
    source: "corp",
    disk: "os",
  };
  const url = (route: ServedRoute) => route.url.replace(/:(\w+)/g, (_m, name: string) => names[name]);
  const tokenFor = (route: ServedRoute) => (route.access === "agent" ? agentToken : admin);

  const send = async (method: string, target: string, body: unknown, token = admin): Promise<Answer> => {
    const res = await fetch(new URL(target, endpoint), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text && String(res.headers.get("content-type")).includes("json") ? JSON.parse(text) : {} };
  };
  const openApi = async () =>
    (await send("GET", "/openapi.json", undefined)).body as unknown as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>>;
      components: { schemas: Record<string, unknown> };
    };

  /** What a refused request must leave as it was: the catalog as the API shows it, and the files around the vault. */
  const snapshot = async () => ({
    items: (await api.status()).items.map((i) => ({ ...i, rpoSeconds: 0 })), // RPO moves with the clock only
    sites: await api.listSites(),
    policies: await api.listPolicies(),
    plans: await api.listPlans(),
    networks: await api.listNetworks(),
    mappings: await api.listNetworkMappings(),
    points: await api.points("web"),
    jobs: (await api.jobs({ limit: 1000 })).map((j) => `${j.id} ${j.type} ${j.state}`),
    registrationKey: (await api.vaultInfo()).registrationKey,
    spareTokenWorks: (await send("GET", "/v1/vault", undefined, spareToken)).status,
    aroundTheVault: (await snapshotTree(allowed)).filter((f) => !f.startsWith(`vault${path.sep}`)),
    outside: await fs.readdir(outside),
  });

  before(async () => {
    dir = tempDir();
    allowed = path.join(dir, "allowed");
    outside = tempDir("lifeboat-outside-");
    vault = path.join(allowed, "vault");
    await fs.mkdir(allowed);
    symlinkSync(outside, path.join(allowed, "escape"));
    const init = await lifeboat(["vault", "init", vault, "--json"]);
    assert.equal(init.code, 0, init.stderr);
    const { registrationKey } = JSON.parse(init.stdout) as { registrationKey: string };
    // One scheduler tick at start, then none for an hour: nothing but these requests changes the vault.
    daemon = spawnLifeboat(["--vault", vault, "serve", "--port", "0", "--tick-ms", "3600000", "--allow-path", allowed], { cwd: outside });
    endpoint = await new Promise<string>((resolve, reject) => {
      let log = "";
      daemon.stdout!.on("data", (chunk) => {
        log += chunk;
        const found = /API at (\S+);/.exec(log);
        if (found) resolve(found[1]);
      });
      daemon.once("exit", (code) => reject(new Error(`the daemon exited (${code}) before listening: ${log}`)));
    });
    admin = (await fs.readFile(path.join(vault, "admin.token"), "utf8")).trim();
    api = new EngineClient(endpoint, admin, { pollMs: 50 });

    await api.addSite({ name: "hq", kind: "hyperv", hosts: ["host1"] });
    await api.addSite({ name: "dr", kind: "recovery", path: path.join(allowed, "dr") });
    await api.addPolicy({ name: "gold", copyFrequency: "15m" });
    await api.addNetwork({ name: "dr-net", site: "dr", subnets: ["10.1.0.0/24"] });
    await api.addNetworkMapping({ source: "corp", target: "dr-net" });
    await makeDisk(path.join(allowed, "web.img"), 8);
    const protect = await api.protect({
      name: "web",
      site: "hq",
      host: "host1",
      policy: "gold",
      disks: [{ name: "os", path: path.join(allowed, "web.img"), os: true }],
      recovery: { site: "dr", network: "dr-net" },
    });
    assert.equal(protect.state, "Succeeded", JSON.stringify(protect.error));
    names.job = protect.id;
    await api.addPlan({ name: "dr-plan", groups: [{ items: ["web"] }] });
    spareToken = await api.createToken("spare");
    const agent = await send("POST", "/v1/agents/register", { host: "host2", site: "hq", registrationKey }, "");
    assert.equal(agent.status, 201, agent.text);
    agentToken = (agent.body as unknown as { token: string }).token;
  });
  after(async () => {
    if (daemon.exitCode !== null) return;
    daemon.kill("SIGTERM");
    await new Promise((resolve) => daemon.once("exit", resolve));
  });

  describe("refusals write nothing", () => {
    let baseline: Awaited<ReturnType<typeof snapshot>>;
    beforeEach(async () => (baseline = await snapshot()));
    afterEach(async function () {
      if (this.currentTest?.state !== "passed") return;
      assert.deepEqual(await snapshot(), baseline, "a refused request changed the vault or wrote a file");
    });

    it("every POST, PUT and PATCH route names a body schema, and the OpenAPI document shows it as the route's request body", async () => {
      const doc = await openApi();
      const missing = WITH_BODY.filter((r) => !r.body).map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(missing, [], "routes without a body schema");
      for (const route of WITH_BODY) {
        const operation = doc.paths[route.url.replace(/:(\w+)/g, "{$1}")]?.[route.method.toLowerCase()];
        const ref = operation?.requestBody?.content["application/json"]?.schema.$ref;
        assert.equal(ref, `#/components/schemas/${route.body}`, `${route.method} ${route.url}`);
        assert.ok(doc.components.schemas[route.body!], `the component ${route.body}`);
      }
    });

    it("the issue's case: materialize with outDir an array or a number is refused naming outDir, and nothing is written", async () => {
      for (const outDir of [[path.join(outside, "out")], 4242]) {
        refusedNaming(await send("POST", "/v1/items/web/materialize", { point: "latest", outDir }), "outDir", `materialize ${JSON.stringify(outDir)}`);
      }
      assert.deepEqual(await fs.readdir(outside), [], "nothing outside the allowed directories");
    });

    it("a body that is not an object (array, number, string, null, boolean) or has an unknown key: 400 on every route with a body", async () => {
      for (const route of WITH_BODY) {
        for (const junk of JUNK) {
          if (bodySchema(route.body!).safeParse(junk).success) continue; // legitimate for this route (a check takes any object)
          const what = `${route.method} ${route.url} with ${JSON.stringify(junk)}`;
          const answer = await send(route.method, url(route), junk, tokenFor(route));
          refusedNaming(answer, junk !== null && typeof junk === "object" && !Array.isArray(junk) ? "junk" : "", what);
          assert.match(answer.body.error!.message, new RegExp(`^invalid ${route.body} body: `), what);
        }
      }
    });

    it("junk in each field of each body (arrays, numbers, objects, nulls, ...): 400 naming that field", async () => {
      const doc = await openApi();
      for (const route of WITH_BODY) {
        const shape = (bodySchema(route.body!) as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
        const fields = Object.keys((doc.components.schemas[route.body!] as { properties?: object }).properties ?? {});
        assert.deepEqual(fields, Object.keys(shape), `the document shows the fields of ${route.body}`);
        for (const field of fields) {
          for (const junk of JUNK) {
            if (shape[field].safeParse(junk).success) continue; // e.g. null where the field is nullable
            const answer = await send(route.method, url(route), { [field]: junk }, tokenFor(route));
            refusedNaming(answer, field, `${route.method} ${route.url} with ${field}: ${JSON.stringify(junk)}`);
          }
        }
      }
    });

    /**
     * Every path the daemon reads or writes, with a body that is otherwise valid. `reported`: the item check
     * answers with the failures instead of refusing the request.
     */
    const PATH_FIELDS: Array<{ route: string; field: string; property: string; body: (p: unknown) => unknown; reported?: true }> = [
      { route: "POST /v1/items/:item/materialize", field: "outDir", property: "outDir", body: (p) => ({ point: "latest", outDir: p }) },
      { route: "POST /v1/items/:item/failback", field: "alternateDir", property: "alternateDir", body: (p) => ({ location: "alternate", alternateDir: p }) },
      { route: "POST /v1/sites", field: "path", property: "path", body: (p) => ({ name: "dr2", kind: "recovery", path: p }) },
      { route: "PATCH /v1/sites/:site", field: "path", property: "path", body: (p) => ({ path: p }) },
      {
        route: "POST /v1/items",
        field: "disks.*.path",
        property: "disks.0.path",
        body: (p) => ({ name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: p, os: true }] }),
      },
      { route: "PATCH /v1/items/:item", field: "diskPaths.*", property: "diskPaths.os", body: (p) => ({ diskPaths: { os: p } }) },
      {
        route: "POST /v1/items",
        field: "qmp",
        property: "qmp",
        body: (p) => ({ name: "x", site: "kv", policy: "gold", qmp: p, disks: [{ name: "os", node: "disk", os: true }] }),
      },
      { route: "PATCH /v1/items/:item", field: "qmp", property: "qmp", body: (p) => ({ qmp: p }) },
      {
        route: "POST /v1/items/check",
        field: "disks.*.path",
        property: "disks.0.path",
        body: (p) => ({ name: "x", site: "hq", policy: "gold", disks: [{ name: "os", path: p, os: true }] }),
        reported: true,
      },
    ];

    it("the path table below holds every path field the document marks (format: path)", async () => {
      const doc = await openApi();
      const marked = WITH_BODY.flatMap((r) => pathProperties(doc.components.schemas[r.body!]).map((p) => `${r.method} ${r.url} ${p}`));
      assert.ok(marked.length >= 6, `path fields found: ${marked}`);
      assert.deepEqual(
        marked.filter((m) => !PATH_FIELDS.some((f) => `${f.route} ${f.field}` === m)),
        [],
        "path fields with no row in PATH_FIELDS",
      );
    });

    it("path fields: outside the allowed directories, relative, with '..', through a symlink out, or not a string: refused naming the field", async () => {
      const escapes: unknown[] = [
        path.join(outside, "out"),
        "relative/dir",
        `${allowed}/../../${path.basename(outside)}/out`,
        path.join(allowed, "escape", "out"),
        [path.join(outside, "out")],
        4242,
        { path: outside },
        null,
        "",
      ];
      for (const row of PATH_FIELDS) {
        const route = ALL.find((r) => `${r.method} ${r.url}` === row.route)!;
        for (const p of escapes) {
          const what = `${row.route} with ${row.property} = ${JSON.stringify(p)}`;
          const answer = await send(route.method, url(route), row.body(p), tokenFor(route));
          if (!row.reported) refusedNaming(answer, row.property, what);
          else {
            assert.equal(answer.status, 200, `${what}: ${answer.text}`);
            assert.ok(
              answer.body.failures?.some((f) => f.property === row.property),
              `${what}: ${answer.text}`,
            );
          }
        }
      }
    });
  });

  it("control: the same routes with valid bodies still work (materialize into an allowed directory)", async () => {
    const out = path.join(allowed, "restored");
    const job = await api.materialize("web", "latest", out);
    assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    assert.ok((await fs.readFile(path.join(out, "os"))).equals(await fs.readFile(path.join(allowed, "web.img"))));
  });
});
