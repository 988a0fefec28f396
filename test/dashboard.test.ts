import { strict as assert } from "node:assert";
import { existsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildServer } from "../engine/server/app";
import { decimate, rpoSawtooth } from "../engine/replication/rpo-history";
import { dashboardLine } from "../engine/server/dashboard/announce";
import { MINUTE } from "../engine/clock";
import { makeDisk, newVault, randomWrites, tempDir } from "./helpers";

const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps calling Google services the network here refuses.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("RPO history", () => {
  const at = (minutes: number) => minutes * MINUTE;

  it("is a sawtooth: the value at the window's start, a peak and a zero at each point, the value now", () => {
    const samples = rpoSawtooth([at(0), at(10), at(15)], at(5), at(20));
    assert.deepEqual(samples, [
      { t: at(5), rpo: 300 },
      { t: at(10), rpo: 600 },
      { t: at(10), rpo: 0 },
      { t: at(15), rpo: 300 },
      { t: at(15), rpo: 0 },
      { t: at(20), rpo: 300 },
    ]);
  });

  it("has no value before the first point, and only the rise when no point falls in the window", () => {
    assert.deepEqual(rpoSawtooth([at(10)], at(0), at(12)), [
      { t: at(10), rpo: 0 },
      { t: at(12), rpo: 120 },
    ]);
    assert.deepEqual(rpoSawtooth([at(1)], at(5), at(6)), [
      { t: at(5), rpo: 240 },
      { t: at(6), rpo: 300 },
    ]);
    assert.deepEqual(rpoSawtooth([], at(0), at(6)), []);
    assert.deepEqual(rpoSawtooth([at(7)], at(0), at(6)), [], "a point after the window's end does not count");
  });

  it("thins a long series for a chart but keeps every span's worst RPO", () => {
    const captures = Array.from({ length: 3000 }, (_, i) => i * 30_000);
    captures.splice(1500, 1); // one missed cycle: a 60 s peak that must survive thinning
    const series = rpoSawtooth(captures, 0, 3000 * 30_000);
    const thin = decimate(series, 400);
    assert.ok(thin.length <= 400 && thin.length > 100, `${thin.length} samples`);
    assert.equal(Math.max(...thin.map((s) => s.rpo)), 60);
    assert.ok(
      thin.every((s, i) => i === 0 || s.t >= thin[i - 1].t),
      "in time order",
    );
    assert.equal(decimate(series.slice(0, 10), 400).length, 10, "a short series is left alone");
  });
});

describe("dashboard: lifeboat serve's page in headless Chromium", () => {
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  let engine: Awaited<ReturnType<typeof newVault>>["engine"];
  let clock: Awaited<ReturnType<typeof newVault>>["clock"];
  let dir: string;
  const pageErrors: string[] = [];
  const api = async (url: string, bearer: string | null = token) => {
    const res = await fetch(`${base}${url}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  /** A page that reports script errors and failed requests to this test (a chart that throws fails it). */
  const newPage = async (): Promise<Page> => {
    const page = await (await browser.newContext()).newPage();
    page.on("pageerror", (error) => pageErrors.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().includes("401")) pageErrors.push(`console: ${message.text()}`);
    });
    return page;
  };
  /** The dashboard as `lifeboat serve` links it on a terminal, once it has shown the vault's data. */
  const openWithToken = async (): Promise<Page> => {
    const page = await newPage();
    await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
    await page.waitForSelector("body[data-loaded]");
    return page;
  };
  const cycle = async (appConsistent = false) => {
    clock.advance(5 * MINUTE);
    await randomWrites(path.join(dir, "web.img"), 4);
    await randomWrites(path.join(dir, "db.img"), 4);
    for (const [name, options] of [
      ["web", { appConsistent }],
      ["db", {}],
    ] as const) {
      const job = await engine.replicateNow(name, options);
      assert.equal(job.state, "Succeeded", JSON.stringify(job.error));
    }
  };

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`these tests drive Debian's Chromium at ${CHROMIUM}: install it with 'apt-get install -y chromium' (.ci/run does)`);
    }
    dir = tempDir();
    ({ engine, clock } = await newVault(dir, { policy: { rpoThresholdMinutes: 15 } }));
    await makeDisk(path.join(dir, "web.img"), 16);
    await makeDisk(path.join(dir, "db.img"), 16);
    // web has quiesce hooks, so its app-consistent cycles make app-consistent points.
    await engine.protect({
      name: "web",
      site: "hq",
      host: "host1",
      policy: "gold",
      disks: [{ name: "os", path: path.join(dir, "web.img"), os: true }],
      hooks: { quiesce: "true", unquiesce: "true" },
    });
    await engine.protect({ name: "db", site: "hq", host: "host1", policy: "gold", disks: [{ name: "os", path: path.join(dir, "db.img"), os: true }] });
    for (let i = 1; i <= 6; i++) await cycle(i % 3 === 0);
    clock.advance(2 * MINUTE);
    token = await engine.createToken("dashboard");
    app = buildServer(engine);
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });
  afterEach(() => assert.deepEqual(pageErrors.splice(0), [], "the page ran without errors"));

  it("serves the page and its assets without a token; every data route still needs one", async () => {
    const page = await api("/", null);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.doesNotMatch(page.text, /https?:\/\//, "no CDN, no external font: nothing from another origin");
    assert.equal((await api("/dashboard/app.js", null)).status, 200);
    assert.equal((await api("/dashboard/app.css", null)).status, 200);
    for (const url of ["/v1/status", "/v1/jobs", "/v1/items/web/points", "/v1/items/web/rpo-history", "/?x=1", "/dashboard/other.js"]) {
      assert.equal((await api(url, null)).status, 401, url);
    }
  });

  it("answers RPO history derived from the item's points", async () => {
    const res = await api("/v1/items/web/rpo-history?hours=1");
    assert.equal(res.status, 200);
    const history = JSON.parse(res.text) as { rpoThresholdSeconds: number; samples: Array<{ t: string; rpoSeconds: number }> };
    assert.equal(history.rpoThresholdSeconds, 900);
    // Cycles every 5 minutes, the last 2 minutes ago: peaks of 300 s, and 120 s now.
    assert.deepEqual(
      [...new Set(history.samples.map((s) => s.rpoSeconds))].sort((a, b) => a - b),
      [0, 120, 300],
    );
    assert.equal(history.samples[history.samples.length - 1].t, new Date(clock.now()).toISOString());
    assert.equal((await api("/v1/items/web/rpo-history?hours=0")).status, 400);
    assert.equal((await api("/v1/items/ghost/rpo-history")).status, 404);
  });

  it("loads with the token in the fragment, takes it out of the address bar, and shows the vault's items", async () => {
    const page = await openWithToken();
    assert.equal(page.url(), `${base}/`, "the token left the address bar");
    assert.equal(await page.evaluate("sessionStorage.getItem('lifeboat.token')"), token, "kept for this tab only");
    const rows = await page.$$eval("table.items tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-item")));
    assert.deepEqual(rows, ["db", "web"]);
    const web = await page.textContent("table.items tr[data-item=web]");
    for (const text of ["hq / host1", "Protected", "Normal", "2 min", "primary", "never drilled"])
      assert.ok(web?.includes(text), `the row shows ${text}: ${web}`);
    assert.ok(!web?.includes("drill recommended"), "a drill is recommended only 180 days after protection");
    assert.equal(await page.getAttribute("[data-key-state]", "data-key-state"), "valid");
    await page.context().close();
  });

  it("draws each item's RPO chart with its data points and a timeline of crash and app-consistent points", async () => {
    const page = await openWithToken();
    for (const name of ["web", "db"]) {
      const history = JSON.parse((await api(`/v1/items/${name}/rpo-history?hours=24`)).text) as { samples: unknown[] };
      const drawn = await page.$$eval(`svg.rpo-chart[data-item=${name}] circle.rpo-sample`, (cs) => cs.map((c) => Number(c.getAttribute("data-rpo"))));
      assert.equal(drawn.length, history.samples.length, `${name}: one element per sample`);
      assert.ok(drawn.length >= 12, `${name}: ${drawn.length} samples for 7 points`);
      assert.equal(Math.max(...drawn), 300);
      assert.equal(await page.locator(`svg.rpo-chart[data-item=${name}] path.rpo-line`).count(), 1);
    }
    const points = await engine.points("web");
    const kinds = await page.$$eval("svg.point-timeline[data-item=web] .point", (els) => els.map((e) => e.getAttribute("data-kind")));
    assert.equal(kinds.length, points.length);
    assert.equal(kinds.filter((k) => k === "app").length, 2, "app-consistent cycles 3 and 6");
    assert.equal(kinds.filter((k) => k === "crash").length, points.length - 2);
    assert.equal(await page.locator("svg.point-timeline[data-item=web] polygon[data-kind=app]").count(), 2, "app points are diamonds");
    assert.equal(await page.locator("svg.point-timeline[data-item=db] [data-kind=app]").count(), 0, "db has no quiesce hooks");
    await page.context().close();
  });

  it("lists recent jobs with their task trees and progress, and refreshes by itself", async () => {
    const page = await openWithToken();
    const jobs = await page.$$eval("details.job", (ds) => ds.map((d) => `${d.getAttribute("data-state")} ${d.querySelector("summary strong")?.textContent}`));
    assert.ok(jobs.length >= 10, `${jobs.length} jobs listed`);
    assert.ok(jobs.includes("Succeeded Replicate") && jobs.includes("Succeeded EnableProtection"), jobs.join(", "));
    const protect = page.locator("details.job").filter({ hasText: "EnableProtection" }).first();
    await protect.locator("summary").click();
    assert.ok((await protect.locator("li[data-task]").count()) >= 3, "the enable-protection task tree");
    assert.equal(await protect.locator("summary [role=progressbar]").getAttribute("aria-valuenow"), "100");

    // A new cycle shows up without a reload, and the task tree opened stays open across the refresh.
    const before = await page.locator("svg.point-timeline[data-item=db] .point").count();
    await cycle();
    await page.locator("svg.point-timeline[data-item=db] .point").nth(before).waitFor({ timeout: 20_000 });
    assert.equal((await page.locator("details.job[open]").filter({ hasText: "EnableProtection" }).count()) >= 1, true);
    await page.context().close();
  });

  it("asks for a token when there is none, and again when the daemon refuses one", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector("#login:not([hidden])");
    assert.equal(await page.isHidden("#content"), true);
    await page.fill("#login input[name=token]", "lbt_wrong");
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#login-error:has-text('refused')");
    await page.fill("#login input[name=token]", token);
    await page.click("#login button[type=submit]");
    await page.waitForSelector("body[data-loaded]");
    assert.equal(await page.locator("table.items tbody tr").count(), 2);
    await page.click("#forget");
    await page.waitForSelector("#login:not([hidden])");
    await page.context().close();
  });

  it("lifeboat serve prints the URL with the token only on a terminal", async () => {
    const file = path.join(dir, "admin.token");
    writeFileSync(file, "lbt_secret\n");
    assert.equal(await dashboardLine(base, file, true), `dashboard at ${base}/#token=lbt_secret`);
    const logged = await dashboardLine(base, file, false);
    assert.ok(!logged.includes("lbt_secret") && logged.includes(file), logged);
  });
});
