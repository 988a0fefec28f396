/**
 * Browser code: the two SVG charts of an item, drawn by hand (no chart library). Each data point is
 * its own SVG element with data attributes, so it has a tooltip and a test can count and read them.
 */
import { el, formatAxisTime, formatSeconds, formatTime, svg } from "./dom";
import type { Point, RpoHistory } from "./wire";

const PLOT = { width: 720, left: 52, right: 14 };

type Scale = (t: number) => number;

/** Maps times of the window onto the plot's x range; the RPO chart and the timeline share it. */
function timeScale(fromMs: number, toMs: number): Scale {
  const span = Math.max(1, toMs - fromMs);
  return (t) => PLOT.left + ((t - fromMs) / span) * (PLOT.width - PLOT.left - PLOT.right);
}

function timeAxis(x: Scale, fromMs: number, toMs: number, y: number): SVGTextElement[] {
  const ticks: SVGTextElement[] = [];
  for (let i = 0; i <= 4; i++) {
    const t = fromMs + ((toMs - fromMs) * i) / 4;
    ticks.push(svg("text", { x: x(t), y: y, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, formatAxisTime(t, toMs - fromMs)));
  }
  return ticks;
}

/** RPO over time: a sawtooth that drops to 0 at each point, with the item's RPO threshold dashed. */
export function rpoChart(history: RpoHistory, fromMs: number, toMs: number): SVGSVGElement {
  const height = 170,
    top = 12,
    bottom = 22;
  const samples = history.samples.map((s) => ({ t: Date.parse(s.t), rpo: s.rpoSeconds, iso: s.t }));
  const ceiling = Math.max(history.rpoThresholdSeconds, 1, ...samples.map((s) => s.rpo)) * 1.1;
  const x = timeScale(fromMs, toMs);
  const y = (rpo: number) => top + (1 - rpo / ceiling) * (height - top - bottom);
  const chart = svg("svg", {
    class: "chart rpo-chart",
    viewBox: "0 0 " + PLOT.width + " " + height,
    role: "img",
    "aria-label": "RPO of " + history.item + " over time",
    "data-item": history.item,
  });
  chart.append(
    svg("line", { class: "axis", x1: PLOT.left, x2: PLOT.width - PLOT.right, y1: y(0), y2: y(0) }),
    svg("line", { class: "axis", x1: PLOT.left, x2: PLOT.left, y1: top, y2: y(0) }),
    svg("text", { x: PLOT.left - 6, y: y(0), "text-anchor": "end", "dominant-baseline": "middle" }, "0"),
    svg("text", { x: PLOT.left - 6, y: top, "text-anchor": "end", "dominant-baseline": "hanging" }, formatSeconds(Math.round(ceiling))),
    svg("line", { class: "threshold", x1: PLOT.left, x2: PLOT.width - PLOT.right, y1: y(history.rpoThresholdSeconds), y2: y(history.rpoThresholdSeconds) }),
    svg(
      "text",
      { class: "threshold-label", x: PLOT.width - PLOT.right, y: y(history.rpoThresholdSeconds) - 3, "text-anchor": "end" },
      "threshold " + formatSeconds(history.rpoThresholdSeconds),
    ),
    ...timeAxis(x, fromMs, toMs, height - 6),
  );
  if (!samples.length) {
    chart.append(svg("text", { x: PLOT.width / 2, y: height / 2, "text-anchor": "middle" }, "no recovery point yet in this window"));
    return chart;
  }
  const path = samples.map((s, i) => (i ? "L" : "M") + x(s.t).toFixed(1) + " " + y(s.rpo).toFixed(1)).join(" ");
  chart.append(svg("path", { class: "rpo-line", d: path }));
  for (const s of samples) {
    chart.append(
      svg(
        "circle",
        { class: "rpo-sample", cx: x(s.t).toFixed(1), cy: y(s.rpo).toFixed(1), r: 2.5, "data-t": s.iso, "data-rpo": s.rpo },
        svg("title", {}, formatTime(s.iso) + ": RPO " + formatSeconds(s.rpo)),
      ),
    );
  }
  return chart;
}

/** Recovery points on the same time axis: crash-consistent as dots, app-consistent as diamonds. */
export function pointTimeline(item: string, points: Point[], fromMs: number, toMs: number): SVGSVGElement {
  const height = 46,
    mid = 16;
  const x = timeScale(fromMs, toMs);
  const shown = points.filter((p) => Date.parse(p.capturedAt) >= fromMs && Date.parse(p.capturedAt) <= toMs);
  const chart = svg("svg", {
    class: "chart point-timeline",
    viewBox: "0 0 " + PLOT.width + " " + height,
    role: "img",
    "aria-label": "Recovery points of " + item,
    "data-item": item,
  });
  chart.append(
    svg("line", { class: "axis", x1: PLOT.left, x2: PLOT.width - PLOT.right, y1: mid, y2: mid }),
    svg("text", { x: PLOT.left - 6, y: mid, "text-anchor": "end", "dominant-baseline": "middle" }, shown.length + " pts"),
    ...timeAxis(x, fromMs, toMs, height - 4),
  );
  for (const p of shown) {
    const cx = x(Date.parse(p.capturedAt));
    const tip = svg("title", {}, formatTime(p.capturedAt) + " — " + (p.kind === "app" ? "app-consistent" : "crash-consistent") + " — " + p.id);
    const attrs = { class: "point " + p.kind, "data-kind": p.kind, "data-point": p.id, "data-t": p.capturedAt };
    chart.append(
      p.kind === "app"
        ? svg(
            "polygon",
            {
              ...attrs,
              points: [
                [cx, mid - 6],
                [cx + 6, mid],
                [cx, mid + 6],
                [cx - 6, mid],
              ]
                .map((q) => q.join(","))
                .join(" "),
            },
            tip,
          )
        : svg("circle", { ...attrs, cx: cx.toFixed(1), cy: mid, r: 4 }, tip),
    );
  }
  return chart;
}

export function timelineLegend(points: Point[], fromMs: number): HTMLDivElement {
  const older = points.filter((p) => Date.parse(p.capturedAt) < fromMs).length;
  return el(
    "div",
    { class: "legend" },
    el("span", {}, el("span", { class: "swatch crash" }), "crash-consistent"),
    el("span", {}, el("span", { class: "swatch app" }), "app-consistent"),
    older ? el("span", {}, older + " older point(s) held, outside this window") : null,
  );
}
