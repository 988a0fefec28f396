// Prints steps the way `pulumi up` lists them (a symbol, the operation, type and name) and the
// closing "Resources:" summary, to whatever sink the caller gives (console for the CLI, a buffer
// in tests).
export type Op = "create" | "update" | "replace" | "delete" | "same";

export interface StepRecord {
  op: Op;
  urn: string;
  type: string;
  name: string;
  /** For updates and replacements: each input that changes, as `pulumi preview --diff` lists them. */
  changes?: PropertyChange[];
}

export interface PropertyChange {
  key: string;
  old: unknown;
  new: unknown;
  /** The change forces a replacement. */
  replaces: boolean;
}

/** A value on one line, cut where it would run on (the step list stays readable). */
const brief = (value: unknown) => {
  const text = value === undefined ? "(none)" : JSON.stringify(value);
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
};

const symbols: Record<Op, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
const pastTense: Record<Op, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted", same: "unchanged" };

export type Sink = (line: string) => void;

export function printStep(out: Sink, step: StepRecord, preview: boolean): void {
  const label = step.op === "same" ? "same" : preview ? step.op : pastTense[step.op];
  out(` ${symbols[step.op].padEnd(2)} ${label.padEnd(9)} ${step.type}  ${step.name}`);
  for (const c of step.changes ?? []) {
    const [sign, text] = c.old === undefined ? ["+", brief(c.new)] : c.new === undefined ? ["-", brief(c.old)] : ["~", `${brief(c.old)} => ${brief(c.new)}`];
    out(`        ${sign} ${c.key}: ${text}${c.replaces ? " (replaces)" : ""}`);
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
