// The dependency graph of a stack's resources, as pulumi/pulumi pkg/resource/graph/dependency_graph.go
// reads it from a checkpoint: a resource depends on its parent, its dependencies (dependsOn and
// resources its inputs came from) and its property dependencies.
import type { ResourceState } from "./state";

/** URNs a resource depends on (State.GetAllDependencies, without providers: dynamic resources share one). */
export function dependencyUrns(res: ResourceState, withParent = true): Set<string> {
  const urns = new Set<string>(res.dependencies ?? []);
  for (const deps of Object.values(res.propertyDependencies ?? {})) for (const urn of deps) urns.add(urn);
  if (withParent && res.parent) urns.add(res.parent);
  urns.delete(res.urn);
  return urns;
}

/**
 * Resources that depend on `root` directly or through others, in dependency order; parents do not count
 * (DependencyGraph.DependingOn with includeChildren=false). `resources` must be in dependency order.
 */
export function dependingOn(resources: ResourceState[], root: ResourceState, ignore: (urn: string) => boolean): ResourceState[] {
  const reached = new Set([root.urn]);
  const out: ResourceState[] = [];
  for (const candidate of resources.slice(resources.indexOf(root) + 1)) {
    if (ignore(candidate.urn)) continue;
    if ([...dependencyUrns(candidate, false)].some((urn) => reached.has(urn))) {
      out.push(candidate);
      reached.add(candidate.urn);
    }
  }
  return out;
}

/**
 * Orders resources so that each comes after everything it depends on, keeping the given order where it
 * can (the checkpoint is kept in such an order; DependingOn relies on it).
 */
export function dependencyOrder(resources: ResourceState[]): ResourceState[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const placed = new Set<ResourceState>();
  const visiting = new Set<ResourceState>();
  const out: ResourceState[] = [];
  const place = (res: ResourceState) => {
    if (placed.has(res) || visiting.has(res)) return;
    visiting.add(res);
    for (const urn of dependencyUrns(res)) {
      const dep = byUrn.get(urn);
      if (dep) place(dep);
    }
    visiting.delete(res);
    placed.add(res);
    out.push(res);
  };
  resources.forEach(place);
  return out;
}

/**
 * Splits resources to delete into rounds that can each run in parallel, dependents first: the engine's
 * ScheduleDeletes (pkg/resource/deploy/step_generator.go) peels off antichains of the condemned set, then
 * reverses them so nothing is deleted while something that depends on it remains.
 */
export function deleteRounds(condemned: ResourceState[]): ResourceState[][] {
  const rounds: ResourceState[][] = [];
  let left = [...condemned];
  while (left.length) {
    const urns = new Set(left.map((r) => r.urn));
    // A resource whose dependencies are all gone from the set is a "maximal" element: it may go this round.
    let round = left.filter((r) => ![...dependencyUrns(r)].some((urn) => urns.has(urn) && urn !== r.urn));
    if (!round.length) round = left; // a cycle cannot come from a program; do not spin on a corrupt file
    rounds.push(round);
    left = left.filter((r) => !round.includes(r));
  }
  return rounds.reverse();
}

/** Everything `res` depends on, directly or not, within `resources` (DependencyGraph.TransitiveDependenciesOf). */
export function transitiveDependencies(resources: ResourceState[], res: ResourceState): Set<ResourceState> {
  const byUrn = new Map<string, ResourceState[]>();
  for (const r of resources) byUrn.set(r.urn, [...(byUrn.get(r.urn) ?? []), r]);
  const out = new Set<ResourceState>();
  const walk = (r: ResourceState) => {
    for (const urn of dependencyUrns(r)) {
      for (const dep of byUrn.get(urn) ?? []) {
        if (dep === res || out.has(dep)) continue;
        out.add(dep);
        walk(dep);
      }
    }
  };
  walk(res);
  return out;
}
