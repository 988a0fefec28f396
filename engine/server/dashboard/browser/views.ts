/** Browser code: the sections of the page, each rebuilt from API data on every refresh. */
import { pointTimeline, rpoChart, timelineLegend } from "./charts";
import { badge, el, formatSeconds, formatTime, progressBar } from "./dom";
import type { ItemStatus, Job, Point, RpoHistory, Task, VaultStatus } from "./wire";

const HEALTH_TONE: Record<string, string> = { Normal: "ok", Warning: "warn", Critical: "bad" };
const JOB_TONE: Record<string, string> = { Succeeded: "ok", InProgress: "info", NotStarted: "idle", Suspended: "warn", Failed: "bad", Cancelled: "bad" };

/** One item's charts' data, as main.ts loads it. */
export interface ItemDetail {
  item: ItemStatus;
  history: RpoHistory;
  points: Point[];
}

export function keyView(vault: VaultStatus["vault"]): HTMLDivElement {
  const key = vault.registrationKey;
  const state = key.revokedAt ? badge("revoked", "bad") : key.expired ? badge("expired", "bad") : badge("valid", "ok");
  return el(
    "div",
    { class: "key", "data-key-state": key.revokedAt ? "revoked" : key.expired ? "expired" : "valid" },
    el("h2", {}, "Registration key ", state),
    el("span", { class: "muted" }, "created " + formatTime(key.createdAt) + " · " + (key.expired ? "expired " : "expires ") + formatTime(key.expiresAt)),
    key.expired ? el("div", { class: "muted" }, "Agents cannot register until a new key is issued: lifeboat vault rotate-key") : null,
  );
}

function healthCell(item: ItemStatus): HTMLTableCellElement {
  return el(
    "td",
    {},
    badge(item.health, HEALTH_TONE[item.health] || "idle"),
    item.healthErrors.map((e) => el("span", { class: "reason", title: e.code }, e.message || e.code)),
  );
}

function rpoCell(item: ItemStatus): HTMLTableCellElement {
  const over = item.rpoSeconds !== null && item.rpoSeconds > item.rpoThresholdSeconds;
  return el(
    "td",
    { class: over ? "error" : "" },
    formatSeconds(item.rpoSeconds),
    el("span", { class: "reason" }, "threshold " + formatSeconds(item.rpoThresholdSeconds)),
  );
}

function drillCell(item: ItemStatus): HTMLTableCellElement {
  return el(
    "td",
    {},
    item.drillRecommended ? badge("drill recommended", "warn") : null,
    el("span", { class: "reason" }, item.lastDrillAt ? "last drill " + formatTime(item.lastDrillAt) : "never drilled"),
  );
}

export function itemsTable(items: ItemStatus[]): HTMLElement {
  if (!items.length) return el("p", { class: "muted" }, "No protected items yet: lifeboat protect NAME ...");
  const head = ["Name", "Site / host", "State", "Health", "RPO", "Latest point", "Active site", "Drill"];
  return el(
    "table",
    { class: "items" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        head.map((h) => el("th", {}, h)),
      ),
    ),
    el(
      "tbody",
      {},
      items.map((item) =>
        el(
          "tr",
          { "data-item": item.name },
          el("td", {}, el("strong", {}, item.name), el("span", { class: "reason" }, item.policy + (item.group ? " · group " + item.group : ""))),
          el("td", {}, item.site + (item.host ? " / " + item.host : "")),
          el("td", {}, item.state, item.failoverState ? el("span", { class: "reason" }, item.failoverState) : null),
          healthCell(item),
          rpoCell(item),
          el(
            "td",
            {},
            item.latestPoint ? formatTime(item.latestPoint.capturedAt) : "—",
            item.latestPoint ? el("span", { class: "reason" }, item.latestPoint.kind + " · " + item.points + " held") : null,
          ),
          el("td", {}, item.activeSite),
          drillCell(item),
        ),
      ),
    ),
  );
}

/** The charts start at the window's start, or at the item's first point when it is younger than that. */
export function itemCharts(detail: ItemDetail): HTMLDivElement {
  const samples = detail.history.samples;
  const fromMs = Date.parse(samples.length ? samples[0].t : detail.history.from),
    toMs = Date.parse(detail.history.to);
  return el(
    "div",
    { class: "item-charts", "data-item": detail.item.name },
    el("h3", {}, detail.item.name, " ", el("span", { class: "muted" }, "RPO now " + formatSeconds(detail.item.rpoSeconds))),
    rpoChart(detail.history, fromMs, toMs),
    pointTimeline(detail.item.name, detail.points, fromMs, toMs),
    timelineLegend(detail.points, fromMs),
  );
}

/** A finished task counts as done whatever progress it last wrote; the job's bar is its tasks' mean. */
function taskFraction(task: Task): number {
  return task.state === "Succeeded" ? 1 : task.progress;
}
function jobFraction(job: Job): number {
  if (job.state === "Succeeded") return 1;
  if (!job.tasks.length) return 0;
  return job.tasks.reduce((sum, t) => sum + taskFraction(t), 0) / job.tasks.length;
}

/** Subtasks are indented inside the name column, so the state, bar and detail columns stay aligned. */
function taskTree(tasks: Task[], depth = 0): HTMLUListElement {
  return el(
    "ul",
    { class: "tasks" },
    tasks.map((t) =>
      el(
        "li",
        { "data-task": t.name },
        el(
          "div",
          { class: "task" },
          indent(el("span", {}, t.name), depth),
          badge(t.state, JOB_TONE[t.state] || "idle"),
          progressBar(taskFraction(t), t.state),
          el("span", { class: t.error ? "detail error" : "detail", title: t.error || t.detail || "" }, t.error || t.detail || ""),
        ),
        t.children.length ? taskTree(t.children, depth + 1) : null,
      ),
    ),
  );
}
function indent<T extends HTMLElement>(node: T, depth: number): T {
  node.style.paddingLeft = depth * 16 + "px";
  return node;
}

/** Jobs whose task tree the user opened or closed keep that state across refreshes. */
const jobOpen = new Map<string, boolean>();
export function jobList(jobs: Job[]): HTMLElement {
  if (!jobs.length) return el("p", { class: "muted" }, "No jobs yet.");
  return el(
    "div",
    {},
    jobs.map((job) => {
      const open = jobOpen.has(job.id) ? jobOpen.get(job.id) : job.state !== "Succeeded";
      const details = el(
        "details",
        { class: "job", "data-job": job.id, "data-state": job.state, open: open ? "" : false },
        el(
          "summary",
          {},
          el("span", {}, el("strong", {}, job.type), " ", job.target),
          badge(job.state, JOB_TONE[job.state] || "idle"),
          el(
            "span",
            { class: "muted" },
            job.durationMs !== null ? formatSeconds(Math.round(job.durationMs / 1000)) : job.state === "InProgress" ? "running" : "—",
          ),
          progressBar(jobFraction(job), job.state),
          el("span", { class: "muted" }, formatTime(job.createdAt)),
        ),
        job.error ? el("div", { class: "error" }, job.error.code + ": " + job.error.message) : null,
        taskTree(job.tasks),
      );
      details.addEventListener("toggle", () => jobOpen.set(job.id, details.open));
      return details;
    }),
  );
}
