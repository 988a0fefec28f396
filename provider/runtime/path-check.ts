// The daemon's path rule (schema/paths.ts) applied in check, so a preview refuses a path before any
// daemon runs: with the embedded default the provider knows the rule exactly, since it starts the
// daemon itself with the directories of `lifeboat:allowedPaths`.
import type { FieldFailure } from "../../schema";
import { PathPolicy } from "../../schema/paths";
import { ALLOW_PATH_HINT, allowedPathsOf, usesEmbeddedDefault } from "./connection";
import { containsUnknown, type Props } from "./values";

/** A path among a resource's inputs; `engineChecks`: a running engine checks it itself (it knows which disks agents read). */
export interface PathInput {
  property: string;
  value: unknown;
  engineChecks?: boolean;
}

/**
 * Failures for the path inputs the embedded daemon would refuse. With a configured endpoint that
 * daemon's own --allow-path rule applies, which only it knows: its checks run when it answers.
 */
export function confinedPaths(paths: PathInput[], inputs: Props): FieldFailure[] {
  if (!usesEmbeddedDefault() || typeof inputs.vault !== "string" || containsUnknown(inputs.vault)) return [];
  const policy = new PathPolicy(allowedPathsOf(inputs.vault), ALLOW_PATH_HINT);
  const fields = paths.filter((p) => p.value !== undefined && !containsUnknown(p.value)).map((p): [string, unknown] => [p.property, p.value]);
  return policy.failures(fields);
}
