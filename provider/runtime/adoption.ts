// Taking over objects the engine already has. A new resource whose name is taken is refused by its
// check (so a stack never holds, or deletes on removal, what it did not make) unless it says
// `adopt: true`: then its create reads the object, refuses what only a new object could change, and
// applies the declared settings. `pulumi import` cannot do this for dynamic resources.
import type { FieldFailure } from "../../schema";
import type { Connection } from "./connection";
import { diffInputs, type Context, type Kind, type KindDefinition } from "./resource";
import { containsUnknown, same, type Props } from "./values";

/** The object's name in the engine; undefined for a kind without one, or while a preview does not know it. */
function keyOf(def: KindDefinition, inputs: Props): string | undefined {
  const value = def.key === undefined ? undefined : inputs[def.key];
  return typeof value === "string" && value !== "" && !containsUnknown(value) ? value : undefined;
}

/** A context for reads in a check, on the engine found running (a check makes nothing). */
const readingContext = (vault: string, connection: Connection): Context => ({
  vault,
  connection: async () => connection,
  engine: async () => connection.engine,
  made: () => undefined,
});

/** The check of a new resource (one the stack does not hold yet): its name must be free unless it is adopted. */
export async function takenName(kind: Kind, def: KindDefinition, vault: string, connection: Connection, inputs: Props): Promise<FieldFailure[]> {
  const id = keyOf(def, inputs);
  if (id === undefined || inputs.adopt === true) return [];
  if (!(await def.read(readingContext(vault, connection), id, inputs))) return [];
  return [
    {
      property: def.key!,
      reason: `a ${kind} '${id}' exists in the vault already, and this stack did not make it: set \`adopt: true\` to take it over (removing it from the program then deletes it), or choose another ${def.key}`,
    },
  ];
}

/** Create with `adopt: true`: take the object over when the engine has it, else create it as usual. */
export async function adopt(kind: Kind, def: KindDefinition, ctx: Context, inputs: Props): Promise<{ id: string; observed?: Props }> {
  const id = keyOf(def, inputs)!;
  const current = await def.read(ctx, id, inputs);
  if (!current) return def.create(ctx, inputs);
  const fixed = def.fixedOnAdoption ?? def.identity;
  const [has, wants] = [fixed(current), fixed(inputs)];
  const differing = Object.keys(wants).filter((key) => !same(has[key], wants[key]));
  if (differing.length) {
    const what = differing.map((key) => `${key}: the engine has ${JSON.stringify(has[key])}, the program declares ${JSON.stringify(wants[key])}`);
    throw new Error(
      `cannot adopt ${kind} '${id}': ${what.join("; ")}. Only a new object can differ there: declare what the engine has, or remove the object from the engine first`,
    );
  }
  const olds = { ...current, vault: inputs.vault };
  if (!diffInputs(def, olds, inputs).changes) return { id, observed: Object.fromEntries(def.observed.filter((k) => k in current).map((k) => [k, current[k]])) };
  return { id, observed: await def.update(ctx, id, olds, inputs) };
}
