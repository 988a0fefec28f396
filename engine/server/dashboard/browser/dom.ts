/** Browser code of the dashboard: DOM helpers and formatting. */

const SVG_NS = "http://www.w3.org/2000/svg";

/** Attribute values; false, null and undefined leave the attribute out (listeners are added in code). */
export type Attrs = Record<string, string | number | boolean | null | undefined>;
type Leaf = Node | string | number | false | null | undefined;
/** A child, or a list of them (a mapped array), flattened one level as the DOM's append would not. */
export type Child = Leaf | Leaf[];

/** An element with attributes and children. Text always goes in as text nodes, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs, ...children: Child[]): HTMLElementTagNameMap[K] {
  return build(document.createElement(tag), attrs, children);
}
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs, ...children: Child[]): SVGElementTagNameMap[K] {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}
function build<T extends Element>(node: T, attrs: Attrs, children: Child[]): T {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 120) return seconds + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}
export function formatTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}
/** A time on an axis; over a day or more the date matters more than the minutes. */
export function formatAxisTime(ms: number, spanMs: number): string {
  return spanMs >= 20 * 3600 * 1000
    ? new Date(ms).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit" })
    : new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
export function badge(text: string, tone: string): HTMLSpanElement {
  return el("span", { class: "badge " + tone }, text);
}
/** A bar for a fraction 0..1; its width is set through the CSSOM, which the page's CSP allows. */
export function progressBar(fraction: number, state?: string): HTMLDivElement {
  const bar = el("div", { class: "bar" });
  bar.style.width = Math.round(Math.max(0, Math.min(1, fraction)) * 100) + "%";
  return el(
    "div",
    { class: "progress " + (state || ""), role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(fraction * 100) },
    bar,
  );
}
