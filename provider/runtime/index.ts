// The runtime of the Lifeboat dynamic provider: what each serialized hook loads and calls, with the
// resource kind's name. It holds the real imports (zod schemas, the engine client).
import { configure as configureConnection, connect, connectIfRunning, type ProviderConfig } from "./connection";
import { adopt, takenName } from "./adoption";
import { diffInputs, validate, type Context, type Kind, type KindDefinition, type Replacement } from "./resource";
import { confinedPaths } from "./path-check";
import { hookTimeoutMs, withTimeout } from "./timeout";
import { containsUnknown, PREVIEW_FLAG, type Props } from "./values";
import { drill } from "./kinds/drill";
import { network, networkMapping } from "./kinds/network";
import { policy } from "./kinds/policy";
import { protectedItem } from "./kinds/protected-item";
import { recoveryPlan } from "./kinds/recovery-plan";
import { site } from "./kinds/site";
import { vault } from "./kinds/vault";

const KINDS: Record<Kind, KindDefinition> = {
  Vault: vault,
  Site: site,
  ReplicationPolicy: policy,
  Network: network,
  NetworkMapping: networkMapping,
  ProtectedItem: protectedItem,
  RecoveryPlan: recoveryPlan,
  Drill: drill,
};

function definition(kind: Kind): KindDefinition {
  const def = KINDS[kind];
  if (!def) throw new Error(`unknown Lifeboat resource kind '${kind}'`);
  return def;
}

/** The vault directory of a resource: the Vault's own path, everyone else's `vault` input. */
const vaultOf = (def: KindDefinition, props: Props) => String(def.inVault ? props.vault : props.path);

function context(def: KindDefinition, props: Props): Context {
  const dir = vaultOf(def, props);
  let connecting: ReturnType<typeof connect> | undefined;
  const connection = () => (connecting ??= connect(dir));
  return { vault: dir, connection, engine: async () => (await connection()).engine, made: () => undefined };
}

/** Runs one hook of one kind under its timeout; hooks that may wait for jobs get the long one. */
function hook<T>(kind: Kind, what: string, mayRunJobs: boolean, body: (def: KindDefinition) => Promise<T>): Promise<T> {
  const def = definition(kind);
  return withTimeout(`${what} of a lifeboat ${kind}`, hookTimeoutMs(mayRunJobs && def.runsJobs === true), () => body(def));
}

export async function configure(config: ProviderConfig): Promise<void> {
  configureConnection(config);
}

/**
 * Replacements this deployment's diffs decided, by the new object (kind, vault, name): what each replaces
 * and why. Pulumi checks a replacement again with no old inputs, as if it were new, in the same provider
 * process right after the diff; that check finds here that the name it keeps is taken only by the object
 * it replaces (deleted first), and what the replacement loses, for the preview.
 */
const replacing = new Map<string, Replacement>();
const objectKey = (kind: Kind, def: KindDefinition, props: Props) => (def.key ? JSON.stringify([kind, vaultOf(def, props), props[def.key]]) : "");

export function check(kind: Kind, olds: Props, given: Props) {
  return hook(kind, "check", false, async (def) => {
    const { [PREVIEW_FLAG]: preview, ...news } = given;
    const result = validate(def, news);
    const replaced = Object.keys(olds).length === 0 ? replacing.get(objectKey(kind, def, news)) : undefined;
    // Pulumi gives a resource the stack does not hold yet no old inputs (and a replacement, see `replacing`).
    const isNew = Object.keys(olds).length === 0 && !(def.key && replaced?.name === news[def.key]);
    const paths = def.paths && !result.failures.length ? def.paths(result.inputs) : [];
    // Paths no engine check covers (a site's directory, a failback's): held to the daemon's rule here.
    result.failures.push(
      ...confinedPaths(
        paths.filter((p) => !p.engineChecks),
        result.inputs,
      ),
    );
    if (result.failures.length || !(def.verify || def.annotate || def.crossCheck || (isNew && def.key)) || containsUnknown(result.inputs.vault)) return result;
    // Only a running engine is asked: a preview starts nothing, and a new vault's engine does not run yet.
    let unreachable = "the engine is not running";
    const running = await connectIfRunning(vaultOf(def, result.inputs)).catch(
      (error: Error) => void (unreachable = `the engine could not be reached (${error.message})`),
    );
    let engine = running?.engine;
    try {
      if (running && isNew) result.failures.push(...(await takenName(kind, def, vaultOf(def, result.inputs), running, result.inputs)));
      if (engine && def.verify) result.failures.push(...(await def.verify(engine, result.inputs)));
    } catch (error) {
      // A configured endpoint that does not answer: the preview goes on without the engine's checks.
      if ((error as { code?: string }).code !== "ConnectionLost") throw error;
      unreachable = `the engine could not be reached (${(error as Error).message})`;
      engine = undefined;
    }
    // No engine answers to check the disks itself (the first preview): the rule it will apply, here.
    if (!engine)
      result.failures.push(
        ...confinedPaths(
          paths.filter((p) => p.engineChecks),
          result.inputs,
        ),
      );
    if (def.crossCheck) result.failures.push(...(await def.crossCheck(engine, result.inputs)));
    if (def.annotate && preview === true && !result.failures.length)
      Object.assign(result.inputs, await def.annotate(engine, result.inputs, unreachable, replaced));
    return result;
  });
}

export function diff(kind: Kind, _id: string, olds: Props, news: Props) {
  return hook(kind, "diff", false, async (def) => {
    const result = diffInputs(def, olds, news);
    if (result.replaces.length && def.key) replacing.set(objectKey(kind, def, news), { name: String(olds[def.key]), replaces: result.replaces });
    return result;
  });
}

/** Props updated with what the engine reports; keys it reports absent leave (a Struct holds no undefined). */
const merged = (props: Props, now: Props): Props => Object.fromEntries(Object.entries({ ...props, ...now }).filter(([, v]) => v !== undefined));

/**
 * A create or update that failed once its resource existed (a protect job that failed after the machine
 * was added, a failover done whose commit failed): the error carries the id and what the engine reports
 * now, so Pulumi keeps the resource with its real state instead of forgetting it. A create passes an id
 * only once it made the object (Context.made): an object it did not make never enters the stack.
 */
async function keepPartial(def: KindDefinition, ctx: Context, id: string | undefined, props: Props, error: unknown): Promise<never> {
  if (id && error instanceof Error) {
    const now = await def.read(ctx, id, props).catch(() => undefined);
    if (now) Object.assign(error, { id, properties: merged(props, now), reasons: [error.message] });
  }
  throw error;
}

export function create(kind: Kind, inputs: Props) {
  return hook(kind, "create", true, async (def) => {
    let made: string | undefined;
    const ctx: Context = { ...context(def, inputs), made: (id) => void (made = id) };
    const creating = inputs.adopt === true && def.key ? adopt(kind, def, ctx, inputs) : def.create(ctx, inputs);
    const { id, observed } = await creating.catch((error) => keepPartial(def, ctx, made, inputs, error));
    return { id, outs: merged(inputs, observed ?? {}) };
  });
}

export function update(kind: Kind, id: string, olds: Props, news: Props) {
  return hook(kind, "update", true, async (def) => {
    const ctx = context(def, news);
    const observed = await def.update(ctx, id, olds, news).catch((error) => keepPartial(def, ctx, id, news, error));
    return { outs: merged(news, observed ?? {}) };
  });
}

export function read(kind: Kind, id: string, props: Props) {
  return hook(kind, "read", false, async (def) => {
    const now = await def.read(context(def, props), id, props);
    return now ? { id, props: merged(props, now) } : {};
  });
}

export function remove(kind: Kind, id: string, props: Props) {
  return hook(kind, "delete", true, async (def) => {
    await def.remove(context(def, props), id, props);
  });
}
