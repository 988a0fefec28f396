// What the program declares, as the checks of this provider process have seen it, for checks that
// span resources: a machine's host against its site's hosts, and activeSite declared on a machine and
// on a plan holding it. Pulumi runs one provider process per deployment and checks resources in
// registration order; this module is loaded once per process, so a check sees every resource checked
// before it in the same deployment (a resource waits for the outputs it takes: a plan given an item's
// `name` output is checked after the item). Whichever of the two is checked second fails, naming both.
import type { FieldFailure } from "../../schema";
import { containsUnknown, type Props } from "./values";

const key = (vault: unknown, name: unknown) => `${String(vault)}\u0000${String(name)}`;
const known = (...values: unknown[]) => values.every((v) => typeof v === "string" && !containsUnknown(v));

/** Source sites' hosts as declared, by vault and site name. */
const siteHosts = new Map<string, string[]>();
/** Machines that declare their own activeSite, by vault and item name. */
const itemIntents = new Set<string>();
/** Plans that declare an activeSite, with the machines they hold, by vault and plan name. */
const planIntents = new Map<string, { plan: string; items: string[] }>();

export function declareSite(inputs: Props): void {
  if (!known(inputs.vault, inputs.name) || !Array.isArray(inputs.hosts) || containsUnknown(inputs.hosts)) return;
  siteHosts.set(key(inputs.vault, inputs.name), inputs.hosts as string[]);
}

/** The hosts of a site this deployment declares; undefined when it declares no such site. */
export const declaredHosts = (vault: unknown, site: unknown): string[] | undefined => siteHosts.get(key(vault, site));

/** Records the machine's intent; a plan checked earlier that holds it and declares activeSite too is a contradiction. */
export function declareItemIntent(inputs: Props): FieldFailure[] {
  if (!known(inputs.vault, inputs.name)) return [];
  const id = key(inputs.vault, inputs.name);
  if (inputs.activeSite === undefined) {
    itemIntents.delete(id);
    return [];
  }
  itemIntents.add(id);
  const plan = [...planIntents.entries()].find(([k, p]) => k.startsWith(key(inputs.vault, "")) && p.items.includes(inputs.name as string))?.[1];
  return plan ? [bothDeclare(`the RecoveryPlan '${plan.plan}', which holds this machine, declares activeSite too`)] : [];
}

/** Records the plan's intent; machines of it checked earlier that declare their own activeSite are a contradiction. */
export function declarePlanIntent(inputs: Props): FieldFailure[] {
  if (!known(inputs.vault, inputs.name)) return [];
  const id = key(inputs.vault, inputs.name);
  const groups = Array.isArray(inputs.groups) ? (inputs.groups as Props[]) : [];
  const items = groups.flatMap((g) => (Array.isArray(g?.items) ? (g.items as unknown[]) : [])).filter((i): i is string => known(i));
  if (inputs.activeSite === undefined) {
    planIntents.delete(id);
    return [];
  }
  planIntents.set(id, { plan: inputs.name as string, items });
  const own = items.filter((item) => itemIntents.has(key(inputs.vault, item)));
  return own.length
    ? [bothDeclare(`${own.map((i) => `the ProtectedItem '${i}'`).join(", ")} of this plan declare${own.length === 1 ? "s" : ""} activeSite too`)]
    : [];
}

const bothDeclare = (what: string): FieldFailure => ({
  property: "activeSite",
  reason: `${what}: each refresh and up would move the machine back and forth; declare activeSite on the machine or on the plan, not both`,
});
