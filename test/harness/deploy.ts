// The four operations of the harness — preview, up, refresh, destroy — over one stack's state
// file: they wire the monitor, the program process and the dynamic-provider process together.
import * as os from "node:os";
import * as path from "node:path";
import { startMonitor, type RunningMonitor } from "./monitor";
import { runProgram } from "./program";
import { readProject, qualifyConfig, type Project } from "./project";
import { DynamicProvider } from "./provider-client";
import { ProgramSteps, StepError } from "./register";
import { printStep, printSummary, type Op, type Sink, type StepRecord } from "./report";
import { loadState, saveState, stateFile, type ResourceState, type StackState } from "./state";
import { sameValue } from "./values";

export type Action = "preview" | "up" | "refresh" | "destroy";

export interface DeployOptions {
  /** The Pulumi project directory (holds Pulumi.yaml). */
  dir: string;
  stack?: string;
  /** Stack config as `key=value` pairs would give it; keys without a namespace get the project's. */
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
  private providerStart?: Promise<DynamicProvider>;

  constructor(
    readonly options: DeployOptions,
    readonly preview: boolean,
  ) {
    this.project = readProject(options.dir);
    this.stack = options.stack ?? "dev";
    this.file = stateFile(options.stateDir ?? path.join(os.homedir(), ".lifeboat-harness", this.project.name), this.stack);
    this.old = loadState(this.file);
  }

  get out(): Sink {
    return this.options.out ?? ((line) => console.log(line));
  }

  config(): Record<string, string> {
    return qualifyConfig(this.project, this.options.config ?? {});
  }

  /** One provider process per operation, started on first use, as the engine loads a plugin. */
  provider(engineAddress = "127.0.0.1:0"): Promise<DynamicProvider> {
    this.providerStart ??= (async () => {
      const env = { ...process.env, PULUMI_NODEJS_PROJECT: this.project.name, PULUMI_NODEJS_STACK: this.stack };
      const provider = await DynamicProvider.start(this.project.dir, engineAddress, env);
      // As the CLI does for the dynamic provider: the whole stack config with full keys, which the
      // provider's configure reads with req.config.get("lifeboat:endpoint").
      await provider.configure(this.config());
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

  /**
   * Deletes old resources, last registered first; returns the ones that could not be deleted.
   * `quiet` ones are the old halves of replacements: `pulumi up` shows those as the replace alone.
   */
  async deleteAll(resources: ResourceState[], quiet: ResourceState[] = []): Promise<ResourceState[]> {
    const kept: ResourceState[] = [];
    for (const res of [...resources].reverse()) {
      try {
        if (!this.preview && res.custom && res.id) await (await this.provider()).delete(res.urn, res.id, res.outputs);
        if (!quiet.includes(res)) this.step({ op: "delete", urn: res.urn, type: res.type, name: res.name });
      } catch (err) {
        this.error(new StepError(res.type, res.name, "delete", (err as Error).message).message);
        kept.unshift(res);
      }
    }
    return kept;
  }

  async finish(state: StackState | undefined): Promise<DeployResult> {
    if (this.providerStart) await (await this.providerStart.catch(() => undefined))?.stop();
    if (state && !this.preview) saveState(this.file, state);
    printSummary(this.out, this.steps, this.preview);
    return { ok: this.errors.length === 0, steps: this.steps, errors: this.errors, state: state ?? this.old };
  }
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
  const olds = new Map(session.old.resources.map((r) => [r.urn, r]));
  let monitor: RunningMonitor | undefined;
  const steps = new ProgramSteps(
    {
      project: session.project.name,
      stack: session.stack,
      preview: session.preview,
      provider: () => session.provider(monitor?.address),
      step: session.step,
    },
    olds,
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
  let exit;
  try {
    exit = await runProgram({
      project: session.project,
      stack: session.stack,
      monitorAddress: monitor.address,
      config: session.config(),
      dryRun: session.preview,
    });
  } finally {
    await monitor.close();
  }
  if (exit.output.trim()) session.out(exit.output.replace(/^/gm, "  | ").trimEnd());
  if (exit.code !== 0 && session.errors.length === 0) session.error(`the program exited with code ${exit.code}`);

  // Undeclared resources are deleted only after a complete run: a failed program may simply not
  // have reached their declarations. Replaced ones go in any case: their replacements exist.
  const undeclared = session.old.resources.filter((r) => !steps.isDeclared(r.urn));
  const doomed = session.old.resources.filter((r) => steps.replaced.includes(r) || (session.errors.length === 0 && undeclared.includes(r)));
  const kept = await session.deleteAll(doomed, steps.replaced);
  const survivors = undeclared.filter((r) => !doomed.includes(r)).concat(kept.filter((r) => !undeclared.includes(r)));
  return session.finish({ version: 1, resources: [...steps.resources(), ...survivors] });
}

/** refresh: ask the provider to read each resource; an empty id means it is gone. */
async function refresh(session: Session): Promise<DeployResult> {
  const resources: ResourceState[] = [];
  for (const res of session.old.resources) {
    const record = (op: Op) => session.step({ op, urn: res.urn, type: res.type, name: res.name });
    if (!res.custom || !res.id) {
      resources.push(res);
      record("same");
      continue;
    }
    try {
      const read = await (await session.provider()).read(res.urn, res.id, res.outputs, res.inputs);
      if (!read.id) {
        record("delete");
        continue;
      }
      const changed = !sameValue(read.outputs, res.outputs) || read.id !== res.id;
      resources.push({ ...res, id: read.id, outputs: read.outputs, inputs: read.inputs ?? res.inputs });
      record(changed ? "update" : "same");
    } catch (err) {
      session.error(new StepError(res.type, res.name, "read", (err as Error).message).message);
      resources.push(res);
    }
  }
  return session.finish({ version: 1, resources });
}

/** destroy: delete everything in the state, last registered first, without running the program. */
async function destroy(session: Session): Promise<DeployResult> {
  const kept = await session.deleteAll(session.old.resources);
  return session.finish({ version: 1, resources: kept });
}
