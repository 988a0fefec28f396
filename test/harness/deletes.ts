// Deleting resources the way the engine's delete phase does (pkg/resource/deploy/deployment_executor.go,
// the loop over ScheduleDeletes' antichains): dependents before what they depend on, each round in
// parallel; nothing that a resource which failed to delete depends on is attempted; a failure other than
// "protected" stops the deletes (the step executor cancels), a protected one does not
// (step_executor.go cancelDueToError: deleteProtectedError always continues). Protection and retention:
// https://www.pulumi.com/docs/iac/concepts/resources/options/protect/ ("an error to do a Pulumi deployment
// which tries to delete a protected resource for any reason") and .../options/retainondelete/.
import { deleteRounds, transitiveDependencies } from "./graph";
import type { DynamicProvider } from "./provider-client";
import { StepError } from "./step-error";
import type { StepRecord } from "./report";
import type { ResourceState } from "./state";

export interface DeleteContext {
  preview: boolean;
  provider(): Promise<DynamicProvider>;
  step(record: StepRecord): void;
  error(message: string): void;
}

/** Pulumi's refusal (step.go deleteProtectedError), naming the resource. */
export function protectedDeleteMessage(urn: string): string {
  return `resource "${urn}" cannot be deleted because it is protected. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``;
}

/**
 * Deletes `condemned`; returns those still existing afterwards. `replaced` are old halves of
 * create-before-delete replacements: their protection was checked when the replace was planned
 * (DeleteStep.Apply skips the check when replacing), and `pulumi up` shows them as the replace alone.
 */
export async function deleteResources(ctx: DeleteContext, condemned: ResourceState[], replaced: ResourceState[] = []): Promise<ResourceState[]> {
  const gone = new Set<ResourceState>();
  const failed: ResourceState[] = [];
  let cancelled = false;
  for (const round of deleteRounds(condemned)) {
    if (cancelled) break;
    const blocked = new Set(failed.flatMap((f) => [...transitiveDependencies(condemned, f)]));
    await Promise.all(
      round
        .filter((res) => !blocked.has(res))
        .map(async (res) => {
          const replacing = replaced.includes(res);
          try {
            if (!replacing && res.protect) throw new ProtectedError(protectedDeleteMessage(res.urn));
            // retainOnDelete: the resource leaves the stack, its provider's Delete is not called (step.go DeleteStep.Apply).
            if (!ctx.preview && res.custom && res.id && !res.retainOnDelete) await (await ctx.provider()).delete(res.urn, res.id, res.outputs);
            gone.add(res);
            if (!replacing) ctx.step({ op: "delete", urn: res.urn, type: res.type, name: res.name, ...(res.retainOnDelete ? { retain: true } : {}) });
          } catch (err) {
            failed.push(res);
            if (!(err instanceof ProtectedError)) cancelled = true;
            ctx.error(new StepError(res.type, res.name, "delete", (err as Error).message).message);
          }
        }),
    );
  }
  return condemned.filter((r) => !gone.has(r));
}

class ProtectedError extends Error {}
