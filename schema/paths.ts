// Where the engine may read and write: the rule the daemon applies to every path in a request, shared
// with the Pulumi provider so a preview can apply it before any daemon runs. Node's fs and path only:
// nothing of ours but the schema's own error type.
import { realpathSync } from "node:fs";
import * as path from "node:path";
import { ValidationError, type FieldFailure } from "./validate";

/** How to allow a directory, said by every refusal; each caller words it for its own setting. */
export const SERVE_ALLOW_HINT = "start the daemon with 'lifeboat serve --allow-path DIR' (repeatable)";

/** The directories a daemon allows unless told otherwise: the one holding the vault. */
export const defaultAllowedPaths = (vaultDir: string): string[] => [path.dirname(path.resolve(vaultDir))];

/**
 * Paths must lie inside the allowed directories. A path with ".." segments is refused outright, and
 * symbolic links are resolved (as far as the path exists) before the check, so neither can lead out.
 */
export class PathPolicy {
  private readonly roots: string[];

  constructor(
    allowed: string[],
    private readonly howToAllow = SERVE_ALLOW_HINT,
  ) {
    this.roots = allowed.map((dir) => resolveReal(path.resolve(dir)));
  }

  /** Why this value may not be used as a path here, or undefined. Only a string can be a path: anything else is refused. */
  whyRefused(value: unknown): string | undefined {
    if (typeof value !== "string") return "must be a path (a string)";
    if (value === "") return "must not be empty";
    if (!path.isAbsolute(value)) return "must be an absolute path";
    if (value.split(/[\\/]+/).includes("..")) return "must not contain '..'";
    const real = resolveReal(path.normalize(value));
    if (!this.roots.some((root) => real === root || real.startsWith(root + path.sep))) {
      return `is outside the directories this engine allows (${this.roots.join(", ")}); to allow its directory, ${this.howToAllow}`;
    }
    return undefined;
  }

  /** Failures for the fields whose paths are refused (undefined: an optional path not given), each naming the path. */
  failures(fields: Array<[string, unknown]>): FieldFailure[] {
    return fields.flatMap(([property, value]) => {
      const reason = value === undefined ? undefined : this.whyRefused(value);
      return reason ? [{ property, reason: `${typeof value === "string" ? value : JSON.stringify(value)} ${reason}` }] : [];
    });
  }

  /** Check the paths of a parsed request body; throws a ValidationError naming each offending field. */
  check(what: string, fields: Array<[string, unknown]>): void {
    const failures = this.failures(fields);
    if (failures.length) throw new ValidationError(what, failures);
  }
}

/** The real path of the longest existing prefix, with the rest appended. */
function resolveReal(p: string): string {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return p;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}
