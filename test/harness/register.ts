// What happens to each resource a program registers, following the engine's step generator
// (pulumi/pulumi pkg/resource/deploy/step_generator.go): find its old state (by URN, then by alias),
// apply ignoreChanges, check, diff, then create, update or replace (only check and diff in preview).
// Registrations arrive concurrently and are stepped concurrently: nothing here serializes independent
// resources (the SDK sends a registration once what it depends on is done). The new state is kept in
// registration order; deleting what was not declared is left to the caller, which knows whether the
// program finished.
import { aliasUrns } from "./aliases";
import { deleteResources } from "./deletes";
import { dependencyOrder, dependingOn } from "./graph";
import type { Registered, Registration } from "./monitor";
import { applyIgnoreChanges, planChange, type Plan } from "./plan";
import { parsePath } from "./property-path";
import { ResourceInitError, type DynamicProvider } from "./provider-client";
import { changedProperties, type Op, type PropertyChange, type StepRecord } from "./report";
import { markSecrets, splitSecrets, unionKeys } from "./secrets";
import type { ResourceState } from "./state";
import { StepError } from "./step-error";
import { makeUrn, STACK_TYPE } from "./urn";
import { UNKNOWN, type PropertyMap } from "./values";

export { StepError } from "./step-error";

export interface StepContext {
  project: string;
  stack: string;
  preview: boolean;
  provider(): Promise<DynamicProvider>;
  step(record: StepRecord): void;
  error(message: string): void;
  info(message: string): void;
}

const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic";

export class ProgramSteps {
  /** New state in registration order; undefined where nothing exists (a failed create). */
  private readonly slots: (ResourceState | undefined)[] = [];
  private readonly index = new Map<string, number>();
  private readonly olds: Map<string, ResourceState>;
  /** The old state in dependency order (what DependingOn walks). */
  private readonly oldOrder: ResourceState[];
  /** Old URN → the URN it was registered under this run (itself, or the new URN of an alias). */
  readonly claimed = new Map<string, string>();
  /** Options children inherit (source_eval.go inheritFromParent), by URN. */
  private readonly inherited = new Map<string, { protect?: boolean; retainOnDelete?: boolean }>();
  /** Old states replaced create-before-delete: deleted with the other deletes once the run is over. */
  readonly replaced: ResourceState[] = [];
  /** Old states deleted ahead of a delete-before-replace of something they depend on. */
  readonly deletedEarly: ResourceState[] = [];
  private stack?: { values: PropertyMap; secret: string[] };

  constructor(
    private readonly ctx: StepContext,
    olds: ResourceState[],
  ) {
    this.oldOrder = dependencyOrder(olds);
    this.olds = new Map(olds.map((r) => [r.urn, r]));
  }

  /** Whether an old resource was accounted for this run: registered again (under any URN), or deleted for a replacement. */
  isAccountedFor(old: ResourceState): boolean {
    return this.claimed.has(old.urn) || this.deletedEarly.includes(old);
  }

  resources(): ResourceState[] {
    return this.slots.filter((s): s is ResourceState => s !== undefined);
  }

  registerOutputs(urn: string, outputs: PropertyMap): void {
    const { plain, secretKeys } = splitSecrets(outputs);
    if (urn.split("::")[2] === STACK_TYPE) this.stack = { values: plain, secret: secretKeys };
    const slot = this.index.get(urn);
    const entry = slot === undefined ? undefined : this.slots[slot];
    if (!entry || this.ctx.preview) return;
    entry.outputs = plain;
    entry.secretOutputs = unionKeys(secretKeys, entry.additionalSecretOutputs);
  }

  /** The program's exports (the stack resource's outputs) as registered this run, preview included. */
  stackOutputs(): { values: PropertyMap; secret: string[] } | undefined {
    return this.stack;
  }

  /** The old state a registration continues: under its URN, else under the first alias that names one. */
  private findOld(urn: string, reg: Registration): ResourceState | undefined {
    const ctx = {
      stack: this.ctx.stack,
      project: this.ctx.project,
      parentAlias: (parent: string) => [...this.claimed].find(([oldUrn, newUrn]) => newUrn === parent && oldUrn !== parent)?.[0],
    };
    for (const candidate of [urn, ...aliasUrns(ctx, reg.name, reg.type, reg.parent, reg.aliases)]) {
      const old = this.olds.get(candidate);
      if (!old || this.claimed.has(candidate) || (candidate !== urn && this.index.has(candidate))) continue;
      this.claimed.set(candidate, urn);
      return old;
    }
    return undefined;
  }

  async register(reg: Registration): Promise<Registered> {
    const urn = makeUrn(this.ctx.stack, this.ctx.project, reg.type, reg.name, reg.parent);
    if (this.index.has(urn)) throw new StepError(reg.type, reg.name, "register", `duplicate resource URN ${urn}`);
    const fromParent = this.inherited.get(reg.parent);
    const protect = reg.protect ?? fromParent?.protect;
    const retainOnDelete = reg.retainOnDelete ?? fromParent?.retainOnDelete;
    this.inherited.set(urn, { protect, retainOnDelete });
    const old = this.findOld(urn, reg);
    // A resource deleted ahead of a delete-before-replace comes back as its replacement (step_generator.go "recreating").
    const recreating = old !== undefined && this.deletedEarly.includes(old);
    // Until the step succeeds, the old state (if any) stays what the stack records.
    this.index.set(urn, this.slots.push(recreating ? undefined : old) - 1);
    const setSlot = (s: ResourceState | undefined) => (this.slots[this.index.get(urn)!] = s);
    const record = (op: Op, changes?: PropertyChange[]) => this.ctx.step({ op, urn, type: reg.type, name: reg.name, ...(changes?.length ? { changes } : {}) });
    const { plain: news, secretKeys } = splitSecrets(reg.inputs);
    const base = compact({
      urn,
      type: reg.type,
      name: reg.name,
      custom: reg.custom,
      parent: reg.parent || undefined,
      protect: protect || undefined,
      retainOnDelete: retainOnDelete || undefined,
      additionalSecretOutputs: nonEmpty(reg.additionalSecretOutputs),
      ignoreChanges: nonEmpty(reg.ignoreChanges),
      replaceOnChanges: nonEmpty(reg.replaceOnChanges),
      dependencies: nonEmpty(reg.dependencies),
      propertyDependencies: Object.keys(reg.propertyDependencies).length ? reg.propertyDependencies : undefined,
    });

    if (!reg.custom) {
      // Components and the stack have no provider: they exist once declared.
      record(old ? "same" : "create");
      if (!this.ctx.preview)
        setSlot({ ...base, inputs: news, secretInputs: nonEmpty(secretKeys), outputs: old?.outputs ?? {}, secretOutputs: old?.secretOutputs });
      return { urn, id: "", outputs: {} };
    }
    // Dynamic resources: pulumi-nodejs:dynamic:<Type>, or pulumi-nodejs:dynamic/<module>:<Type>.
    if (!reg.type.startsWith(`${DYNAMIC_PREFIX}:`) && !reg.type.startsWith(`${DYNAMIC_PREFIX}/`)) {
      throw new StepError(reg.type, reg.name, "register", "the test harness runs only dynamic resources (pulumi.dynamic.Resource)");
    }
    const fail = (what: string) => (err: unknown) => {
      throw err instanceof StepError ? err : new StepError(reg.type, reg.name, what, err instanceof Error ? err.message : String(err));
    };
    const provider = await this.ctx.provider();

    // ignoreChanges: the listed properties keep their old values before check and diff (processIgnoreChanges).
    let goal = news;
    let goalSecrets = secretKeys;
    if (old && !recreating && reg.ignoreChanges.length) {
      const ignored = (() => {
        try {
          return applyIgnoreChanges(news, old.inputs, reg.ignoreChanges);
        } catch (err) {
          return fail("ignoreChanges")(err);
        }
      })();
      if (ignored.invalid.length)
        this.ctx.info(`${urn}: cannot ignore changes in added or removed elements of the path: ${ignored.invalid.map((p) => `"${p}"`).join(", ")}`);
      goal = ignored.inputs;
      // A value taken back from the old inputs keeps the secretness it had there (PropertyPath.reset):
      // a property reset whole is as secret as it was; one reset in part is secret if either side was.
      const wasSecret = (k: string) => old.secretInputs?.includes(k) ?? false;
      const touched = reg.ignoreChanges.map((p) => String(parsePath(p)[0]));
      goalSecrets =
        unionKeys(
          secretKeys.filter((k) => !reg.ignoreChanges.includes(k) || wasSecret(k)),
          touched.filter(wasSecret),
        ) ?? [];
    }
    const check = async (olds: PropertyMap, props: PropertyMap) => {
      const checked = await provider.check(urn, olds, props).catch(fail("check"));
      if (checked.failures.length) {
        const reasons = checked.failures.map((f) => `property "${f.property}": ${f.reason}`).join("; ");
        throw new StepError(reg.type, reg.name, "check", reasons);
      }
      return checked.inputs;
    };
    let inputs = await check(old && !recreating ? old.inputs : {}, goal);
    const options = { ignoreChanges: reg.ignoreChanges, replaceOnChanges: reg.replaceOnChanges };
    const plan: Omit<Plan, "op"> & { op: Op } = recreating
      ? { op: "replace", replaces: [], deleteBeforeReplace: true }
      : old
        ? await planChange(provider, old, inputs, options).catch(fail("diff"))
        : { op: "create", replaces: [], deleteBeforeReplace: false };
    // The option wins over the provider's answer, in both directions (goal.DeleteBeforeReplace).
    const deleteFirst = recreating || (reg.deleteBeforeReplace ?? plan.deleteBeforeReplace);
    if (plan.op === "replace" && !recreating) {
      // A protected resource cannot be replaced: that is a delete (continueStepsFromDiff; new.Protect && old.Protect).
      if (protect && old!.protect) {
        throw new StepError(
          reg.type,
          reg.name,
          "replace",
          `unable to replace resource "${old!.urn}" as it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``,
        );
      }
      // A replacement is a new resource: the engine checks the program's inputs again with no olds.
      inputs = await check({}, news);
      goalSecrets = secretKeys;
    }
    const secretInputs = nonEmpty(goalSecrets.filter((k) => k in inputs));
    const changes =
      old && (plan.op === "update" || plan.op === "replace")
        ? changedProperties(old.inputs, inputs, { replaces: plan.replaces, secret: unionKeys(secretInputs, old.secretInputs, old.secretOutputs) })
        : undefined;
    if (plan.op === "replace" && deleteFirst && !recreating) await this.deleteForReplacement(old!).catch(fail("delete before replace"));

    // Outputs are secret where additionalSecretOutputs says so, or where the same-named input was secret
    // (sdk/go/common/resource/plugin/provider_plugin.go annotateSecrets, after Create/Update: the dynamic
    // provider's Configure answers acceptSecrets=false, so the engine sends it plain values).
    const secretOutputsOf = (outputs: PropertyMap) =>
      unionKeys(
        reg.additionalSecretOutputs,
        secretInputs?.filter((k) => k in outputs),
      );
    const answer = (entry: { id?: string; outputs: PropertyMap; secretOutputs?: string[] }): Registered => ({
      urn,
      id: entry.id ?? "",
      outputs: markSecrets(entry.outputs, entry.secretOutputs),
    });
    if (this.ctx.preview) {
      record(plan.op, changes);
      // Preview shows what the program would see: ids of new resources are unknown ("").
      if (plan.op === "same") return answer({ ...old!, secretOutputs: unionKeys(old!.secretOutputs, secretOutputsOf(old!.outputs)) });
      return answer({ id: plan.op === "update" ? old!.id : "", outputs: inputs, secretOutputs: secretInputs });
    }

    let entry: ResourceState;
    const keepPartial =
      (what: string) =>
      (err: unknown): never => {
        // A step that failed after its resource came to exist still records it with what the provider reported.
        if (err instanceof ResourceInitError && err.id)
          setSlot({ ...base, id: err.id, inputs, secretInputs, outputs: err.properties, secretOutputs: secretOutputsOf(err.properties) });
        return fail(what)(err);
      };
    if (plan.op === "same") {
      entry = {
        ...base,
        id: old!.id,
        inputs,
        secretInputs,
        outputs: old!.outputs,
        secretOutputs: unionKeys(old!.secretOutputs, secretOutputsOf(old!.outputs)),
      };
    } else if (plan.op === "update") {
      const outputs = await provider.update(urn, old!.id!, old!.outputs, inputs).catch(keepPartial("update"));
      entry = { ...base, id: old!.id, inputs, secretInputs, outputs, secretOutputs: secretOutputsOf(outputs) };
    } else {
      if (deleteFirst) setSlot(undefined);
      const created = await provider.create(urn, inputs).catch(keepPartial(plan.op));
      if (!created.id) throw new StepError(reg.type, reg.name, plan.op, "the provider returned no id");
      if (plan.op === "replace" && !deleteFirst) this.replaced.push(old!);
      entry = { ...base, id: created.id, inputs, secretInputs, outputs: created.outputs, secretOutputs: secretOutputsOf(created.outputs) };
    }
    entry = compact(entry);
    setSlot(entry);
    record(plan.op, changes);
    return answer(entry);
  }

  /**
   * Delete-before-replace of `old`: first the resources that depend on it and would be replaced by its
   * replacement (calculateDependentReplacements), last dependent first, then `old` itself. In preview
   * nothing is deleted, but the dependents are still marked: they show as replacements when they register.
   */
  private async deleteForReplacement(old: ResourceState): Promise<void> {
    const dependents = await this.dependentReplacements(old);
    const guarded = dependents.find((d) => d.protect);
    if (guarded) {
      throw new Error(
        `unable to replace resource "${guarded.urn}" as part of replacing "${old.urn}" as it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``,
      );
    }
    const failures: string[] = [];
    const quiet = { ...this.ctx, step: () => undefined, error: (m: string) => failures.push(m) };
    // One at a time, in reverse dependency order, as the engine emits these DeleteReplacement steps.
    for (const res of [...dependents].reverse()) {
      const kept = await deleteResources(quiet, [res], [res]);
      if (kept.length) throw new Error(failures.join("; "));
      this.deletedEarly.push(res);
    }
    const kept = await deleteResources(quiet, [old], [old]);
    if (kept.length) throw new Error(failures.join("; "));
  }

  /**
   * The transitive dependents of `root` (not yet registered this run) that its replacement would replace:
   * those with an input that came from a resource being replaced, whose provider's diff with that input
   * unknown says replace (step_generator.go calculateDependentReplacements).
   */
  private async dependentReplacements(root: ResourceState): Promise<ResourceState[]> {
    const replacing = new Set([root.urn]);
    const out: ResourceState[] = [];
    const registered = (u: string) => this.index.has(u) || this.claimed.has(u);
    for (const dep of dependingOn(this.oldOrder, root, registered)) {
      if (!dep.custom || !dep.id) continue;
      let affected = false;
      const inputs: PropertyMap = {};
      for (const [key, value] of Object.entries(dep.inputs)) {
        const fromReplaced = (dep.propertyDependencies?.[key] ?? []).some((u) => replacing.has(u));
        affected ||= fromReplaced;
        inputs[key] = fromReplaced ? UNKNOWN : value;
      }
      if (!affected) continue;
      const plan = await planChange(await this.ctx.provider(), dep, inputs, {
        ignoreChanges: dep.ignoreChanges ?? [],
        replaceOnChanges: dep.replaceOnChanges ?? [],
      });
      if (plan.op === "replace") {
        out.push(dep);
        replacing.add(dep.urn);
      }
    }
    return out;
  }
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list?.length ? list : undefined;
}

/** The state without fields left undefined, so the state file lists only what is set. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
