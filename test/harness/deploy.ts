// The four operations of the harness — preview, up, refresh, destroy — over one stack's state
// file: they wire the monitor, the program process and the dynamic-provider process together.
import * as os from "node:os";
import * as path from "node:path";
import { deleteResources, type DeleteContext } from "./deletes";
import { dependencyOrder } from "./graph";
import { startMonitor, type RunningMonitor } from "./monitor";
import { runProgram } from "./program";
import { readProject, type Project } from "./project";
import { DynamicProvider } from "./provider-client";
import { ProgramSteps } from "./register";
import { changedProperties, printOutputs, printStep, printSummary, type Sink, type StepRecord } from "./report";
import { stackConfig } from "./stack-config";
import { loadState, saveState, stateFile, type ResourceState, type StackState } from "./state";
import { StepError } from "./step-error";
import { STACK_TYPE } from "./urn";
import { sameValue } from "./values";

export type Action = "preview" | "up" | "refresh" | "destroy";

export interface DeployOptions {
  /** The Pulumi project directory (holds Pulumi.yaml). */
  dir: string;
  stack?: string;
  /**
   * Stack config as `--config key=value` gives it (keys without a namespace get the project's); it wins
   * over Pulumi.<stack>.yaml and the project's defaults in Pulumi.yaml.
   */
  config?: Record<string, string>;
  /** Where `<stack>.json` lives; defaults to `~/.lifeboat-harness/<project>` (outside the work tree, like ~/.pulumi). */
  stateDir?: string;
  out?: Sink;
}

export interface DeployResult {
  ok: boolean;
  steps: StepRecord[];
  /** Clear messages, each naming the resource it is about. */
  errors: string[];
  state: StackState;
}

/** What every operation shares: the project, the state file, the lazily started provider, the step log. */
class Session {
  readonly project: Project;
  readonly stack: string;
  readonly file: string;
  readonly old: StackState;
  readonly steps: StepRecord[] = [];
  readonly errors: string[] = [];
  /** The stack config with full keys (stack-config.ts); a bad config file fails here, before anything runs. */
  readonly config: Record<string, string>;
  private providerStart?: Promise<DynamicProvider>;

  constructor(
    readonly options: DeployOptions,
    readonly preview: boolean,
  ) {
    this.project = readProject(options.dir);
    this.stack = options.stack ?? "dev";
    this.file = stateFile(options.stateDir ?? path.join(os.homedir(), ".lifeboat-harness", this.project.name), this.stack);
    this.old = loadState(this.file);
    this.config = stackConfig(this.project, this.stack, options.config ?? {});
  }

  get out(): Sink {
    return this.options.out ?? ((line) => console.log(line));
  }

  /** One provider process per operation, started on first use, as the engine loads a plugin. */
  provider(engineAddress = "127.0.0.1:0"): Promise<DynamicProvider> {
    this.providerStart ??= (async () => {
      const env = { ...process.env, PULUMI_NODEJS_PROJECT: this.project.name, PULUMI_NODEJS_STACK: this.stack };
      const provider = await DynamicProvider.start(this.project.dir, engineAddress, env, (line) => this.out(`info: ${line}`));
      // As the CLI does for the dynamic provider: the whole stack config with full keys, which the
      // provider's configure reads with req.config.get("lifeboat:endpoint").
      await provider.configure(this.config);
      return provider;
    })();
    return this.providerStart;
  }

  step = (record: StepRecord): void => {
    this.steps.push(record);
    printStep(this.out, record, this.preview);
  };

  error(message: string): void {
    if (this.errors.includes(message)) return;
    this.errors.push(message);
    this.out(`error: ${message}`);
  }

  /** What deleting needs: preview or not, the provider, where steps and errors go. */
  get deletes(): DeleteContext {
    return { preview: this.preview, provider: () => this.provider(), step: this.step, error: (m) => this.error(m) };
  }

  async finish(state: StackState | undefined, outputs?: StackOutputs): Promise<DeployResult> {
    if (this.providerStart) await (await this.providerStart.catch(() => undefined))?.stop();
    if (state && !this.preview) saveState(this.file, { ...state, resources: dependencyOrder(state.resources) });
    const oldStack = this.old.resources.find((r) => r.type === STACK_TYPE);
    if (outputs) printOutputs(this.out, oldStack?.outputs ?? {}, outputs.values, [...(outputs.secret ?? []), ...(oldStack?.secretOutputs ?? [])]);
    printSummary(this.out, this.steps, this.preview);
    return { ok: this.errors.length === 0, steps: this.steps, errors: this.errors, state: state ?? this.old };
  }
}

/** The stack resource's outputs (the program's exports), and which of them are secret. */
interface StackOutputs {
  values: Record<string, unknown>;
  secret?: string[];
}

export async function deploy(action: Action, options: DeployOptions): Promise<DeployResult> {
  switch (action) {
    case "preview":
    case "up":
      return runUpdate(new Session(options, action === "preview"));
    case "refresh":
      return refresh(new Session(options, false));
    case "destroy":
      return destroy(new Session(options, false));
  }
}

/** preview and up: run the program, step each registration, then delete what it no longer declares. */
async function runUpdate(session: Session): Promise<DeployResult> {
  let monitor: RunningMonitor | undefined;
  // Old halves of replacements whose delete failed earlier: deleted first thing (GenerateDeletes, res.Delete).
  const pending = session.old.resources.filter((r) => r.pendingDelete);
  const steps = new ProgramSteps(
    {
      project: session.project.name,
      stack: session.stack,
      preview: session.preview,
      provider: () => session.provider(monitor?.address),
      step: session.step,
      error: (m) => session.error(m),
      info: (m) => session.out(`info: ${m}`),
    },
    session.old.resources.filter((r) => !r.pendingDelete),
  );
  monitor = await startMonitor({
    register: (reg) =>
      steps.register(reg).catch((err: Error) => {
        session.error(err.message);
        throw err;
      }),
    registerOutputs: (urn, outputs) => steps.registerOutputs(urn, outputs),
    log: (severity, message, urn) => {
      if (severity === "error") session.error(urn ? `${urn}: ${message}` : message);
      else if (severity === "warning" || severity === "info") session.out(`${severity}: ${message}`);
    },
  });
  let exit: Awaited<ReturnType<typeof runProgram>>;
  try {
    exit = await runProgram({
      project: session.project,
      stack: session.stack,
      monitorAddress: monitor.address,
      config: session.config,
      dryRun: session.preview,
    });
  } finally {
    await monitor.close();
  }
  if (exit.output.trim()) session.out(exit.output.replace(/^/gm, "  | ").trimEnd());
  if (exit.code !== 0 && session.errors.length === 0) session.error(`the program exited with code ${exit.code}`);

  // Resources deleted ahead of a delete-before-replace that the program did not declare again are gone.
  for (const res of steps.deletedEarly.filter((r) => !steps.claimed.has(r.urn))) session.step({ op: "delete", urn: res.urn, type: res.type, name: res.name });
  // Undeclared resources are deleted only after a complete run: a failed program may simply not
  // have reached their declarations. Replaced ones go in any case: their replacements exist.
  const undeclared = session.old.resources.filter((r) => !r.pendingDelete && !steps.isAccountedFor(r));
  const replaced = [...pending, ...steps.replaced];
  const condemned = [...replaced, ...(session.errors.length === 0 ? undeclared : [])];
  const kept = await deleteResources(session.deletes, condemned, replaced);
  const survivors = [
    ...undeclared.filter((r) => !condemned.includes(r) || kept.includes(r)),
    ...replaced.filter((r) => kept.includes(r)).map((r) => ({ ...r, pendingDelete: true })),
  ];
  const resources = [...steps.resources(), ...survivors.map((r) => renamed(r, steps.claimed))];
  const stack = steps.stackOutputs();
  return session.finish({ version: 1, resources }, stack);
}

/** A resource that stays with references to resources renamed by an alias pointing at their new URNs. */
function renamed(res: ResourceState, claimed: Map<string, string>): ResourceState {
  const to = (urn: string) => claimed.get(urn) ?? urn;
  const propertyDependencies = res.propertyDependencies && Object.fromEntries(Object.entries(res.propertyDependencies).map(([k, urns]) => [k, urns.map(to)]));
  return { ...res, parent: res.parent && to(res.parent), dependencies: res.dependencies?.map(to), propertyDependencies };
}

/** refresh: ask the provider to read each resource (in parallel); an empty id means it is gone. */
async function refresh(session: Session): Promise<DeployResult> {
  const read = async (res: ResourceState): Promise<ResourceState | undefined> => {
    const record = (op: "same" | "update" | "delete", changes?: StepRecord["changes"]) =>
      session.step({ op, urn: res.urn, type: res.type, name: res.name, ...(changes?.length ? { changes } : {}) });
    if (!res.custom || !res.id) {
      record("same");
      return res;
    }
    try {
      const found = await (await session.provider()).read(res.urn, res.id, res.outputs, res.inputs);
      if (!found.id) {
        record("delete");
        return undefined;
      }
      // Which properties drifted: the outputs read against those recorded (secret ones as [secret]).
      const drift = changedProperties(res.outputs, found.outputs, { secret: res.secretOutputs });
      const changed = drift.length > 0 || found.id !== res.id || !sameValue(found.inputs ?? res.inputs, res.inputs);
      record(changed ? "update" : "same", drift);
      return { ...res, id: found.id, outputs: found.outputs, inputs: found.inputs ?? res.inputs };
    } catch (err) {
      session.error(new StepError(res.type, res.name, "read", (err as Error).message).message);
      return res;
    }
  };
  const resources = await Promise.all(session.old.resources.map(read));
  return session.finish({ version: 1, resources: resources.filter((r): r is ResourceState => r !== undefined) });
}

/** destroy: delete everything in the state, dependents first, without running the program. */
async function destroy(session: Session): Promise<DeployResult> {
  const kept = await deleteResources(
    session.deletes,
    session.old.resources,
    session.old.resources.filter((r) => r.pendingDelete),
  );
  return session.finish({ version: 1, resources: kept });
}
