import { z } from "zod";

/**
 * An option of every named resource of the Pulumi provider, beside its spec (never sent to the engine):
 * `adopt: true` says the object may exist in the engine already and the stack takes it over (its
 * create reads it and applies the declared settings); without it, a new resource whose name is taken
 * is refused, so a stack never holds, or deletes, what it did not make.
 */
export const Adoption = z.strictObject({
  adopt: z.boolean().optional(),
});
export type AdoptionInput = z.input<typeof Adoption>;
