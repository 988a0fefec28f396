// Prints steps the way `pulumi up` lists them (a symbol, the operation, type and name) and the
// closing "Resources:" summary, to whatever sink the caller gives (console for the CLI, a buffer
// in tests).
export type Op = "create" | "update" | "replace" | "delete" | "same";

export interface StepRecord {
  op: Op;
  urn: string;
  type: string;
  name: string;
}

const symbols: Record<Op, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
const pastTense: Record<Op, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted", same: "unchanged" };

export type Sink = (line: string) => void;

export function printStep(out: Sink, step: StepRecord, preview: boolean): void {
  const label = step.op === "same" ? "same" : preview ? step.op : pastTense[step.op];
  out(` ${symbols[step.op].padEnd(2)} ${label.padEnd(9)} ${step.type}  ${step.name}`);
}

export function printSummary(out: Sink, steps: StepRecord[], preview: boolean): void {
  const counts = new Map<Op, number>();
  for (const s of steps) counts.set(s.op, (counts.get(s.op) ?? 0) + 1);
  const parts = (["create", "update", "replace", "delete", "same"] as Op[])
    .filter((op) => counts.has(op))
    .map((op) => (op === "same" ? `${counts.get(op)} unchanged` : `${counts.get(op)} ${preview ? `to ${op}` : pastTense[op]}`));
  out(`Resources: ${parts.length ? parts.join(", ") : "none"}`);
}
