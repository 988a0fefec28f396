// How the engine turns a provider's Diff into a step, and the resource options that bend it: ignoreChanges
// before check, the engine's own comparison when the provider is unsure, replaceOnChanges after it
// (pulumi/pulumi pkg/resource/deploy/step_generator.go: processIgnoreChanges, diffResource,
// applyReplaceOnChanges, continueStepsFromDiff); documented at
// https://www.pulumi.com/docs/iac/concepts/resources/options/ignorechanges/ and .../replaceonchanges/.
import { parsePath, pathContains, resetPath } from "./property-path";
import type { DynamicProvider } from "./provider-client";
import type { ResourceState } from "./state";
import { sameValue, type PropertyMap } from "./values";

export interface Plan {
  op: "same" | "update" | "replace";
  /** Properties that force the replacement. */
  replaces: string[];
  /** The provider's answer; the deleteBeforeReplace resource option, when set, overrides it. */
  deleteBeforeReplace: boolean;
}

/**
 * The new inputs with each ignoreChanges path reset to its old value (removed where the old inputs have
 * none), before check and diff; `invalid` lists paths through elements added or removed, which Pulumi
 * reports and leaves alone. Throws naming a malformed path.
 */
export function applyIgnoreChanges(news: PropertyMap, olds: PropertyMap, paths: string[]): { inputs: PropertyMap; invalid: string[] } {
  const inputs = structuredClone(news);
  const invalid = paths.filter((p) => !resetPath(parsePath(p), olds, inputs));
  return { inputs, invalid };
}

/**
 * Diffs `old` against new inputs through the provider, as diffResource does; when the provider leaves
 * `changes` out the engine compares the inputs itself (with ignoreChanges applied) and knows which keys
 * changed. replaceOnChanges turns a change of a listed key into a replacement — only keys the diff names
 * as changed, which a dynamic provider that answers `changes: true` never does (it sends no `diffs`).
 */
export async function planChange(
  provider: DynamicProvider,
  old: ResourceState,
  inputs: PropertyMap,
  options: { ignoreChanges: string[]; replaceOnChanges: string[] },
): Promise<Plan> {
  const diff = await provider.diff(old.urn, old.id ?? "", old.outputs, inputs);
  let changed: boolean;
  let changedKeys: string[];
  let replaces: string[] = [];
  let deleteBeforeReplace = false;
  if (diff.changes === "unknown") {
    const compared = applyIgnoreChanges(inputs, old.inputs, options.ignoreChanges).inputs;
    changedKeys = [...new Set([...Object.keys(old.inputs), ...Object.keys(compared)])].filter((k) => !sameValue(old.inputs[k], compared[k]));
    changed = changedKeys.length > 0;
  } else {
    changed = diff.changes === "some";
    changedKeys = diff.changes === "some" ? diff.changedKeys : [];
    replaces = diff.changes === "some" ? diff.replaces : [];
    deleteBeforeReplace = diff.changes === "some" && diff.deleteBeforeReplace;
  }
  if (!changed) return { op: "same", replaces: [], deleteBeforeReplace: false };
  const paths = options.replaceOnChanges.map(parsePath);
  const forced = changedKeys.filter((k) => {
    const key = keyPath(k);
    return key !== undefined && paths.some((p) => pathContains(p, key));
  });
  replaces = [...new Set([...replaces, ...forced])];
  return { op: replaces.length ? "replace" : "update", replaces, deleteBeforeReplace };
}

/** A changed key read as a path; one that does not parse matches nothing (applyReplaceOnChanges skips it). */
function keyPath(key: string) {
  try {
    return parsePath(key);
  } catch {
    return undefined;
  }
}
