/** Browser code: the sections of the page, each rebuilt from API data on every refresh. */
export const VIEWS_JS = String.raw`
const HEALTH_TONE = { Normal: "ok", Warning: "warn", Critical: "bad" };
const JOB_TONE = { Succeeded: "ok", InProgress: "info", NotStarted: "idle", Suspended: "warn", Failed: "bad", Cancelled: "bad" };

function keyView(vault) {
  const key = vault.registrationKey;
  const state = key.revokedAt ? badge("revoked", "bad") : key.expired ? badge("expired", "bad") : badge("valid", "ok");
  return el("div", { class: "key", "data-key-state": key.revokedAt ? "revoked" : key.expired ? "expired" : "valid" },
    el("h2", {}, "Registration key ", state),
    el("span", { class: "muted" }, "created " + formatTime(key.createdAt) + " · " + (key.expired ? "expired " : "expires ") + formatTime(key.expiresAt)),
    key.expired ? el("div", { class: "muted" }, "Agents cannot register until a new key is issued: lifeboat vault rotate-key") : null);
}

function healthCell(item) {
  return el("td", {}, badge(item.health, HEALTH_TONE[item.health] || "idle"),
    item.healthErrors.map((e) => el("span", { class: "reason", title: e.code }, e.message || e.code)));
}

function rpoCell(item) {
  const over = item.rpoSeconds !== null && item.rpoSeconds > item.rpoThresholdSeconds;
  return el("td", { class: over ? "error" : "" }, formatSeconds(item.rpoSeconds),
    el("span", { class: "reason" }, "threshold " + formatSeconds(item.rpoThresholdSeconds)));
}

function drillCell(item) {
  return el("td", {}, item.drillRecommended ? badge("drill recommended", "warn") : null,
    el("span", { class: "reason" }, item.lastDrillAt ? "last drill " + formatTime(item.lastDrillAt) : "never drilled"));
}

function itemsTable(items) {
  if (!items.length) return el("p", { class: "muted" }, "No protected items yet: lifeboat protect NAME ...");
  const head = ["Name", "Site / host", "State", "Health", "RPO", "Latest point", "Active site", "Drill"];
  return el("table", { class: "items" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, items.map((item) => el("tr", { "data-item": item.name },
      el("td", {}, el("strong", {}, item.name), el("span", { class: "reason" }, item.policy + (item.group ? " · group " + item.group : ""))),
      el("td", {}, item.site + (item.host ? " / " + item.host : "")),
      el("td", {}, item.state, item.failoverState ? el("span", { class: "reason" }, item.failoverState) : null),
      healthCell(item),
      rpoCell(item),
      el("td", {}, item.latestPoint ? formatTime(item.latestPoint.capturedAt) : "—",
        item.latestPoint ? el("span", { class: "reason" }, item.latestPoint.kind + " · " + item.points + " held") : null),
      el("td", {}, item.activeSite),
      drillCell(item)))));
}

/** The charts start at the window's start, or at the item's first point when it is younger than that. */
function itemCharts(detail) {
  const samples = detail.history.samples;
  const fromMs = Date.parse(samples.length ? samples[0].t : detail.history.from), toMs = Date.parse(detail.history.to);
  return el("div", { class: "item-charts", "data-item": detail.item.name },
    el("h3", {}, detail.item.name, " ", el("span", { class: "muted" }, "RPO now " + formatSeconds(detail.item.rpoSeconds))),
    rpoChart(detail.history, fromMs, toMs),
    pointTimeline(detail.item.name, detail.points, fromMs, toMs),
    timelineLegend(detail.points, fromMs));
}

/** A finished task counts as done whatever progress it last wrote; the job's bar is its tasks' mean. */
function taskFraction(task) {
  return task.state === "Succeeded" ? 1 : task.progress;
}
function jobFraction(job) {
  if (job.state === "Succeeded") return 1;
  if (!job.tasks.length) return 0;
  return job.tasks.reduce((sum, t) => sum + taskFraction(t), 0) / job.tasks.length;
}

/** Subtasks are indented inside the name column, so the state, bar and detail columns stay aligned. */
function taskTree(tasks, depth = 0) {
  return el("ul", { class: "tasks" }, tasks.map((t) => el("li", { "data-task": t.name },
    el("div", { class: "task" },
      indent(el("span", {}, t.name), depth),
      badge(t.state, JOB_TONE[t.state] || "idle"),
      progressBar(taskFraction(t), t.state),
      el("span", { class: t.error ? "detail error" : "detail", title: t.error || t.detail || "" }, t.error || t.detail || "")),
    t.children.length ? taskTree(t.children, depth + 1) : null)));
}
function indent(node, depth) {
  node.style.paddingLeft = depth * 16 + "px";
  return node;
}

/** Jobs whose task tree the user opened or closed keep that state across refreshes. */
const jobOpen = new Map();
function jobList(jobs) {
  if (!jobs.length) return el("p", { class: "muted" }, "No jobs yet.");
  return el("div", {}, jobs.map((job) => {
    const open = jobOpen.has(job.id) ? jobOpen.get(job.id) : job.state !== "Succeeded";
    const details = el("details", { class: "job", "data-job": job.id, "data-state": job.state, open: open ? "" : false },
      el("summary", {},
        el("span", {}, el("strong", {}, job.type), " ", job.target),
        badge(job.state, JOB_TONE[job.state] || "idle"),
        el("span", { class: "muted" }, job.durationMs !== null ? formatSeconds(Math.round(job.durationMs / 1000)) : job.state === "InProgress" ? "running" : "—"),
        progressBar(jobFraction(job), job.state),
        el("span", { class: "muted" }, formatTime(job.createdAt))),
      job.error ? el("div", { class: "error" }, job.error.code + ": " + job.error.message) : null,
      taskTree(job.tasks));
    details.addEventListener("toggle", () => jobOpen.set(job.id, details.open));
    return details;
  }));
}
`;
