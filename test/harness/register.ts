// What happens to each resource a program registers: check, then diff against the stored state,
// then create, update or replace (only check and diff in preview). The resulting state is kept in
// registration order; deleting what was not declared is left to the caller, which knows whether
// the program finished.
import { ResourceInitError, type DynamicProvider } from "./provider-client";
import type { Registered, Registration } from "./monitor";
import type { Op, PropertyChange, StepRecord } from "./report";
import type { ResourceState } from "./state";
import { makeUrn } from "./urn";
import { sameValue, type PropertyMap } from "./values";

export interface StepContext {
  project: string;
  stack: string;
  preview: boolean;
  provider(): Promise<DynamicProvider>;
  step(record: StepRecord): void;
}

/** A failure of one resource's step; the message names the resource and the operation. */
export class StepError extends Error {
  constructor(type: string, name: string, what: string, reason: string) {
    super(`${name} [${type}]: ${what} failed: ${reason}`);
  }
}

const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic";

export class ProgramSteps {
  /** New state in registration order; undefined where nothing exists (a failed create). */
  private readonly slots: (ResourceState | undefined)[] = [];
  private readonly index = new Map<string, number>();
  /** Old states that were replaced create-before-delete: deleted when the run is over. */
  readonly replaced: ResourceState[] = [];

  constructor(
    private readonly ctx: StepContext,
    private readonly olds: Map<string, ResourceState>,
  ) {}

  isDeclared(urn: string): boolean {
    return this.index.has(urn);
  }

  resources(): ResourceState[] {
    return this.slots.filter((s): s is ResourceState => s !== undefined);
  }

  registerOutputs(urn: string, outputs: PropertyMap): void {
    const slot = this.index.get(urn);
    const entry = slot === undefined ? undefined : this.slots[slot];
    if (entry && !this.ctx.preview) entry.outputs = outputs;
  }

  async register(reg: Registration): Promise<Registered> {
    const urn = makeUrn(this.ctx.stack, this.ctx.project, reg.type, reg.name, reg.parent);
    if (this.index.has(urn)) throw new StepError(reg.type, reg.name, "register", `duplicate resource URN ${urn}`);
    const old = this.olds.get(urn);
    // Until the step succeeds, the old state (if any) stays what the stack records.
    this.index.set(urn, this.slots.push(old) - 1);
    const setSlot = (s: ResourceState | undefined) => (this.slots[this.index.get(urn)!] = s);
    const record = (op: Op, changes?: PropertyChange[]) => this.ctx.step({ op, urn, type: reg.type, name: reg.name, ...(changes?.length ? { changes } : {}) });
    const secretOutputs = reg.additionalSecretOutputs.length ? reg.additionalSecretOutputs : undefined;
    const base = { urn, type: reg.type, name: reg.name, custom: reg.custom, parent: reg.parent || undefined, secretOutputs };

    if (!reg.custom) {
      // Components and the stack have no provider: they exist once declared.
      record(old ? "same" : "create");
      if (!this.ctx.preview) setSlot({ ...base, inputs: reg.inputs, outputs: old?.outputs ?? {} });
      return { urn, id: "", outputs: {} };
    }
    // Dynamic resources: pulumi-nodejs:dynamic:<Type>, or pulumi-nodejs:dynamic/<module>:<Type>.
    if (!reg.type.startsWith(`${DYNAMIC_PREFIX}:`) && !reg.type.startsWith(`${DYNAMIC_PREFIX}/`)) {
      throw new StepError(reg.type, reg.name, "register", "the test harness runs only dynamic resources (pulumi.dynamic.Resource)");
    }
    const fail = (what: string) => (err: unknown) => {
      throw new StepError(reg.type, reg.name, what, err instanceof Error ? err.message : String(err));
    };
    const provider = await this.ctx.provider();
    const checked = await provider.check(urn, old?.inputs ?? {}, reg.inputs).catch(fail("check"));
    if (checked.failures.length) {
      const reasons = checked.failures.map((f) => `property "${f.property}": ${f.reason}`).join("; ");
      throw new StepError(reg.type, reg.name, "check", reasons);
    }
    const inputs = checked.inputs;
    const op = old ? await this.plan(provider, urn, old, inputs).catch(fail("diff")) : { op: "create" as const, deleteFirst: false };

    const changes = op.op === "update" || op.op === "replace" ? changedInputs(old!, inputs, op.replaces) : undefined;
    if (this.ctx.preview) {
      record(op.op, changes);
      // Preview shows what the program would see: ids of new resources are unknown ("").
      if (op.op === "same") return { urn, id: old!.id ?? "", outputs: old!.outputs };
      return { urn, id: op.op === "update" ? old!.id ?? "" : "", outputs: inputs };
    }

    let entry: ResourceState;
    if (op.op === "same") {
      entry = { ...old!, inputs };
    } else if (op.op === "update") {
      const outputs = await provider.update(urn, old!.id!, old!.outputs, inputs).catch(this.keepPartial(setSlot, base, inputs, fail("update")));
      entry = { ...base, id: old!.id, inputs, outputs };
    } else {
      // The resource option deleteBeforeReplace forces the order even when the provider does not.
      const deleteFirst = op.deleteFirst || reg.deleteBeforeReplace;
      if (op.op === "replace" && deleteFirst) {
        await provider.delete(urn, old!.id!, old!.outputs).catch(fail("delete before replace"));
        setSlot(undefined);
      }
      const created = await provider.create(urn, inputs).catch(this.keepPartial(setSlot, base, inputs, fail(op.op)));
      if (!created.id) throw new StepError(reg.type, reg.name, op.op, "the provider returned no id");
      if (op.op === "replace" && !deleteFirst) this.replaced.push(old!);
      entry = { ...base, id: created.id, inputs, outputs: created.outputs };
    }
    setSlot(entry);
    record(op.op, changes);
    return { urn, id: entry.id ?? "", outputs: entry.outputs };
  }

  /**
   * A step that failed after its resource came to exist (ResourceInitError) still records the resource
   * with the id and properties the provider reported, as the engine does; then the step fails.
   */
  private keepPartial(setSlot: (s: ResourceState | undefined) => void, base: Omit<ResourceState, "inputs" | "outputs">, inputs: PropertyMap, fail: (err: unknown) => never) {
    return (err: unknown): never => {
      if (err instanceof ResourceInitError && err.id) setSlot({ ...base, id: err.id, inputs, outputs: err.properties });
      return fail(err);
    };
  }

  /** Turns the provider's diff into a step, the way the engine reads a DiffResponse. */
  private async plan(
    provider: DynamicProvider,
    urn: string,
    old: ResourceState,
    inputs: PropertyMap,
  ): Promise<{ op: "same" | "update" | "replace"; deleteFirst: boolean; replaces: string[] }> {
    const diff = await provider.diff(urn, old.id ?? "", old.outputs, inputs);
    const replaces = diff.changes === "some" ? diff.replaces : [];
    if (diff.changes === "none") return { op: "same", deleteFirst: false, replaces };
    if (diff.changes === "some" && replaces.length) return { op: "replace", deleteFirst: diff.deleteBeforeReplace, replaces };
    if (diff.changes === "some") return { op: "update", deleteFirst: false, replaces };
    // No answer from the provider: the engine compares the inputs, and never replaces.
    return { op: sameValue(old.inputs, inputs) ? "same" : "update", deleteFirst: false, replaces };
  }
}

/** Inputs added, changed or dropped since the stack's record (whose outputs echo the inputs), plumbing aside. */
function changedInputs(old: ResourceState, news: PropertyMap, replaces: string[]): PropertyChange[] {
  return [...new Set([...Object.keys(news), ...Object.keys(old.inputs)])]
    .filter((key) => !key.startsWith("__") && !sameValue(old.outputs[key], news[key]))
    .map((key) => ({ key, old: old.outputs[key], new: news[key], replaces: replaces.includes(key) }));
}
