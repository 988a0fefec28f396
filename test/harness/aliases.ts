// Resolving a registration's aliases to the URNs its old state may be found under, as the engine's step
// generator does (pkg/resource/deploy/step_generator.go: collapseAliasToUrn, inheritedChildAlias,
// generateAliases). An alias spec's empty fields mean "as the resource is now".
import type { AliasRequest } from "./monitor";
import { makeUrn, STACK_TYPE } from "./urn";

export interface AliasContext {
  stack: string;
  project: string;
  /** The old URN a parent was matched under, when the parent itself was found by an alias. */
  parentAlias(parentUrn: string): string | undefined;
}

const urnName = (urn: string) => urn.split("::").slice(3).join("::");
const urnQualifiedType = (urn: string) => urn.split("::")[2] ?? "";

function collapse(ctx: AliasContext, name: string, type: string, parent: string, alias: AliasRequest): string {
  if ("urn" in alias) return alias.urn;
  const spec = alias.spec;
  let aliasParent = spec.parentUrn || parent;
  // A parent that was itself aliased: this resource's old URN hangs under the parent's old one.
  if (spec.parentUrn) aliasParent = ctx.parentAlias(spec.parentUrn) ?? aliasParent;
  if (spec.noParent || urnQualifiedType(aliasParent) === STACK_TYPE) aliasParent = "";
  return makeUrn(spec.stack || ctx.stack, spec.project || ctx.project, spec.type || type, spec.name || name, aliasParent);
}

/**
 * A child of an aliased parent is aliased too: under the parent's old URN, with the parent's old name
 * in place of the new one where the child's name starts with it (the `${name}-child` convention).
 */
function inherited(ctx: AliasContext, childType: string, childName: string, parentName: string, parentAlias: string): string {
  const aliasName = childName.startsWith(parentName) ? urnName(parentAlias) + childName.slice(parentName.length) : childName;
  return makeUrn(ctx.stack, ctx.project, childType, aliasName, parentAlias);
}

/** The URNs to look the old state up under after the resource's own URN, in the engine's order. */
export function aliasUrns(ctx: AliasContext, name: string, type: string, parent: string, aliases: AliasRequest[]): string[] {
  const out = new Set<string>();
  for (const alias of aliases) out.add(collapse(ctx, name, type, parent, alias));
  const parentAlias = parent ? ctx.parentAlias(parent) : undefined;
  if (parent && parentAlias) {
    out.add(inherited(ctx, type, name, urnName(parent), parentAlias));
    for (const alias of aliases) {
      const child = collapse(ctx, name, type, parent, alias);
      const childType = urnQualifiedType(child).split("$").pop() ?? type;
      out.add(inherited(ctx, childType, urnName(child), urnName(parent), parentAlias));
    }
  }
  return [...out];
}
