// The generic half of every resource kind: check (zod validation that lets preview's unknowns
// through), diff (canonical comparison, replacement on identity), and the shape each kind fills in.
import type { z } from "zod";
import type { EngineClient } from "../../client/engine-client";
import type { Connection } from "./connection";
import type { PathInput } from "./path-check";
import { Adoption, failuresOf, type FieldFailure } from "../../schema";
import { canonical, containsUnknown, isPlumbing, UNKNOWN, valueAt, type Props } from "./values";

/** The resource kinds, one per provider resource (their type tokens end in these names). */
export type Kind = "Vault" | "Site" | "ReplicationPolicy" | "Network" | "NetworkMapping" | "ProtectedItem" | "RecoveryPlan" | "Drill";

/** A replacement the diff decided: the object replaced (its name) and the inputs that force it. */
export interface Replacement {
  name: string;
  replaces: string[];
}

export interface KindDefinition {
  /** The spec schema (zod) the inputs, less `vault`, must satisfy. */
  schema: z.ZodType;
  /** Whether the resource lives in a vault (every kind but the Vault itself). */
  inVault: boolean;
  /** The identity: inputs (as projected here) whose change replaces the resource. */
  identity(inputs: Props): Props;
  /**
   * The input that names the object in the engine and is its id (`name`; a mapping's `source`). A kind
   * with one is refused as a new resource when the name is taken, and can be adopted (`adopt: true`).
   */
  key?: string;
  /** What adopting an object cannot change (as projected here; default: the identity). */
  fixedOnAdoption?(inputs: Props): Props;
  /** Outputs the engine reports (health, ...): never compared as inputs. */
  observed: string[];
  /**
   * Observed outputs that are also desired inputs (activeSite): compared when the program gives them,
   * so a difference between the wish and the engine's report is a change to make.
   */
  desired?: string[];
  /**
   * Inputs a preview's check adds for the preview to show (what a failover or a replacement would do); the
   * engine may be unreachable. `replaced`: the object this resource replaces, when it is a replacement.
   */
  annotate?(engine: EngineClient | undefined, inputs: Props, unreachable: string, replaced: Replacement | undefined): Promise<Props>;
  /** Create, update and delete wait for jobs: they get the long hook timeout. */
  runsJobs?: boolean;
  /** Inputs that are paths the engine will read or write: check holds them to the daemon's rule (see path-check.ts). */
  paths?(inputs: Props): PathInput[];
  /**
   * Checks across resources, given valid inputs: against what this deployment declared before (see
   * declared.ts) and the engine when it runs. They also record this resource's declarations.
   */
  crossCheck?(engine: EngineClient | undefined, inputs: Props): Promise<FieldFailure[]>;
  /** Checks only the engine can make, given fully known, valid inputs (the engine is reachable). */
  verify?(engine: EngineClient, inputs: Props): Promise<FieldFailure[]>;
  create(ctx: Context, inputs: Props): Promise<{ id: string; observed?: Props }>;
  /** Applies changed inputs in place; returns the observed outputs. */
  update(ctx: Context, id: string, olds: Props, news: Props): Promise<Props | undefined>;
  /** The resource as the engine sees it now (inputs it can observe, and the observed outputs); undefined when gone. */
  read(ctx: Context, id: string, outs: Props): Promise<Props | undefined>;
  remove(ctx: Context, id: string, outs: Props): Promise<void>;
}

/** What a hook works with: the vault directory and, connected on first use, its engine. */
export interface Context {
  vault: string;
  connection(): Promise<Connection>;
  engine(): Promise<EngineClient>;
  /**
   * A create says so once the engine holds the object it made: a failure after that (a protect job that
   * failed) keeps the resource in the stack; one before it (the name was taken) records nothing.
   */
  made(id: string): void;
}

export interface CheckResult {
  inputs: Props;
  failures: FieldFailure[];
}

/**
 * Validates the inputs with the kind's schema. Failures at (or holding) a value not known yet are
 * dropped: preview checks again once it is known. Defaults the schema applies come back in the inputs.
 */
export function validate(kind: KindDefinition, news: Props): CheckResult {
  const spec = Object.fromEntries(Object.entries(news).filter(([k]) => !isPlumbing(k)));
  const failures: FieldFailure[] = [];
  if (kind.inVault && news.vault !== UNKNOWN && (typeof news.vault !== "string" || news.vault === "")) {
    failures.push({ property: "vault", reason: "must be the path of a vault: pass the Vault resource's `path` output" });
  }
  if (news.adopt !== undefined) failures.push(...adoptionFailures(kind, news.adopt));
  const parsed = kind.schema.safeParse(spec);
  if (parsed.success) return { inputs: { ...news, ...(parsed.data as Props) }, failures };
  const known = parsed.error.issues.filter((issue) => !containsUnknown(valueAt(spec, issue.path)));
  failures.push(...failuresOf({ ...parsed.error, issues: known } as z.ZodError));
  return { inputs: news, failures };
}

function adoptionFailures(kind: KindDefinition, adopt: unknown): FieldFailure[] {
  if (!kind.key) return [{ property: "adopt", reason: "is not a known property: only an object with a name in the vault can be adopted" }];
  if (adopt === UNKNOWN) return [];
  const parsed = Adoption.safeParse({ adopt });
  return parsed.success ? [] : failuresOf(parsed.error);
}

export interface DiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/**
 * Compares the new inputs with the old outputs (which echo the old inputs). A value not known yet
 * counts as changed. Identity changes replace, deleting first: the new resource has the same name.
 */
export function diffInputs(kind: KindDefinition, olds: Props, news: Props): DiffResult {
  const ignored = new Set(kind.observed.filter((k) => !(kind.desired?.includes(k) && news[k] !== undefined)));
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)].filter((k) => !ignored.has(k) && (k === "vault" || !isPlumbing(k))));
  const differs = (a: unknown, b: unknown) => containsUnknown(b) || canonical(a) !== canonical(b);
  const changed = [...keys].filter((k) => differs(olds[k], news[k]));
  const oldId = kind.identity(olds);
  const newId = kind.identity(news);
  const replaces = Object.keys(newId).filter((k) => differs(oldId[k], newId[k]));
  if (kind.inVault && differs(olds.vault, news.vault)) replaces.push("vault");
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

/** The identity of most kinds: some top-level inputs as they are. */
export const fields =
  (...names: string[]) =>
  (inputs: Props): Props =>
    Object.fromEntries(names.map((n) => [n, inputs[n]]));
