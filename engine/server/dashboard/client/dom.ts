/**
 * Browser code of the dashboard: DOM helpers and formatting. The client files are plain JavaScript
 * kept as text (the project compiles for Node without DOM types) and joined into one script; they use
 * no template literals so that they can sit inside these String.raw literals unchanged.
 */
export const DOM_JS = String.raw`
const SVG_NS = "http://www.w3.org/2000/svg";

/** An element with attributes and children. Text always goes in as text nodes, never as HTML. */
function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}
function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}
function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 120) return seconds + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}
function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}
/** A time on an axis; over a day or more the date matters more than the minutes. */
function formatAxisTime(ms, spanMs) {
  return spanMs >= 20 * 3600 * 1000
    ? new Date(ms).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit" })
    : new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
function badge(text, tone) {
  return el("span", { class: "badge " + tone }, text);
}
/** A bar for a fraction 0..1; its width is set through the CSSOM, which the page's CSP allows. */
function progressBar(fraction, state) {
  const bar = el("div", { class: "bar" });
  bar.style.width = Math.round(Math.max(0, Math.min(1, fraction)) * 100) + "%";
  return el("div", { class: "progress " + (state || ""), role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(fraction * 100) }, bar);
}
`;
