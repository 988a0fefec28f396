// Prints steps the way `pulumi preview --diff` / `pulumi up` list them: a symbol, the operation, type
// and name, then each changed property field by field (objects and arrays opened up, `+` added, `-`
// removed, `~` changed, nothing cut short, secrets as [secret]); then the stack's Outputs and the closing
// "Resources:" summary (after pulumi/pulumi pkg/backend/display: property diffs, `[secret]` for
// secrets). Output goes to whatever sink the caller gives (console for the CLI, a buffer in tests).
import { sameValue, UNKNOWN, type PropertyMap } from "./values";

export type Op = "create" | "update" | "replace" | "delete" | "same";

export interface StepRecord {
  op: Op;
  urn: string;
  type: string;
  name: string;
  /** For updates, replacements and refreshed drift: each top-level property that changes. */
  changes?: PropertyChange[];
  /** A delete that left the resource in place (retainOnDelete). */
  retain?: boolean;
}

export interface PropertyChange {
  key: string;
  old: unknown;
  new: unknown;
  /** The change forces a replacement. */
  replaces: boolean;
  /** Shown as [secret], never in plain text. */
  secret?: boolean;
}

const symbols: Record<Op, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
const pastTense: Record<Op, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted", same: "unchanged" };

export type Sink = (line: string) => void;

/** Top-level properties added, changed or dropped between two property maps, plumbing (`__provider`) aside. */
export function changedProperties(olds: PropertyMap, news: PropertyMap, opts: { replaces?: string[]; secret?: string[] } = {}): PropertyChange[] {
  return [...new Set([...Object.keys(news), ...Object.keys(olds)])]
    .sort()
    .filter((key) => !key.startsWith("__") && !sameValue(olds[key], news[key]))
    .map((key) => ({
      key,
      old: olds[key],
      new: news[key],
      replaces: opts.replaces?.includes(key) ?? false,
      ...(opts.secret?.includes(key) ? { secret: true } : {}),
    }));
}

export function printStep(out: Sink, step: StepRecord, preview: boolean): void {
  const label = step.op === "same" ? "same" : preview ? step.op : pastTense[step.op];
  out(` ${symbols[step.op].padEnd(2)} ${label.padEnd(9)} ${step.type}  ${step.name}${step.retain ? " [retain]" : ""}`);
  for (const c of step.changes ?? []) {
    const lines = c.secret ? secretChange(c) : diffLines(c.key, c.old, c.new, false);
    if (c.replaces && lines.length) lines[0] += " (replaces)";
    for (const line of lines) out(`        ${line}`);
  }
}

/** The stack's outputs as `pulumi up` ends with them: each one, marked where it changed since the last run. */
export function printOutputs(out: Sink, olds: PropertyMap, news: PropertyMap, secret: string[]): void {
  const keys = [...new Set([...Object.keys(news), ...Object.keys(olds)])];
  if (!keys.length) return;
  out("Outputs:");
  for (const key of keys) {
    const hidden = secret.includes(key);
    const lines = hidden ? secretChange({ key, old: olds[key], new: news[key], replaces: false }, true) : diffLines(key, olds[key], news[key], true);
    for (const line of lines) out(`    ${line}`);
  }
}

export function printSummary(out: Sink, steps: StepRecord[], preview: boolean): void {
  const counts = new Map<Op, number>();
  for (const s of steps) counts.set(s.op, (counts.get(s.op) ?? 0) + 1);
  const parts = (["create", "update", "replace", "delete", "same"] as Op[])
    .filter((op) => counts.has(op))
    .map((op) => (op === "same" ? `${counts.get(op)} unchanged` : `${counts.get(op)} ${preview ? `to ${op}` : pastTense[op]}`));
  out(`Resources: ${parts.length ? parts.join(", ") : "none"}`);
}

function secretChange(c: PropertyChange, showSame = false): string[] {
  if (c.old === undefined) return [`+ ${c.key}: [secret]`];
  if (c.new === undefined) return [`- ${c.key}: [secret]`];
  if (sameValue(c.old, c.new)) return showSame ? [`  ${c.key}: [secret]`] : [];
  return [`~ ${c.key}: [secret] => [secret]`];
}

type Container = PropertyMap | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === "object" && v !== null;
const scalar = (v: unknown) => (v === UNKNOWN ? "[unknown]" : (JSON.stringify(v) ?? "undefined"));
const brackets = (v: Container) => (Array.isArray(v) ? ["[", "]"] : ["{", "}"]);
// Object keys sorted, as Pulumi's diff display lists them; array elements by index.
const entries = (v: Container): [string, unknown][] =>
  Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The lines of one property's diff, nested containers indented four spaces a level. With `showSame`
 * unchanged values are listed too (unmarked), as the Outputs section does.
 */
function diffLines(key: string, old: unknown, now: unknown, showSame: boolean): string[] {
  if (old === undefined && now === undefined) return [];
  if (old === undefined) return whole("+", key, now);
  if (now === undefined) return whole("-", key, old);
  if (sameValue(old, now)) return showSame ? whole(" ", key, now) : [];
  if (isContainer(old) && isContainer(now) && Array.isArray(old) === Array.isArray(now)) {
    const [open, close] = brackets(now);
    const olds = new Map(entries(old));
    const news = new Map(entries(now));
    const keys = [...new Set([...news.keys(), ...olds.keys()])];
    const inner = keys.flatMap((k) => diffLines(k, olds.get(k), news.get(k), showSame));
    return [`~ ${key}: ${open}`, ...inner.map((l) => `    ${l}`), `  ${close}`];
  }
  return [`~ ${key}: ${scalar(old)} => ${scalar(now)}`];
}

/** A value added, removed or unchanged as a whole: containers listed field by field under one marker. */
function whole(sign: string, key: string, value: unknown): string[] {
  if (!isContainer(value) || entries(value).length === 0) return [`${sign} ${key}: ${isContainer(value) ? brackets(value).join("") : scalar(value)}`];
  const [open, close] = brackets(value);
  const inner = entries(value).flatMap(([k, v]) => whole(sign, k, v));
  return [`${sign} ${key}: ${open}`, ...inner.map((l) => `    ${l}`), `  ${close}`];
}
