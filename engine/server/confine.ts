import { realpathSync } from "node:fs";
import * as path from "node:path";
import { ValidationError, type FieldFailure } from "../../schema";

/**
 * Paths that arrive over the API must lie inside the directories the daemon allows. A path with ".."
 * segments is refused outright, and symbolic links are resolved (as far as the path exists) before the
 * check, so neither can lead out.
 */
export class PathPolicy {
  private readonly roots: string[];

  constructor(allowed: string[]) {
    this.roots = allowed.map((dir) => resolveReal(path.resolve(dir)));
  }

  /** Why this value may not be used as a path here, or undefined. Only a string can be a path: anything else is refused. */
  problem(value: unknown): string | undefined {
    if (typeof value !== "string") return "must be a path (a string)";
    if (value === "") return "must not be empty";
    if (!path.isAbsolute(value)) return "must be an absolute path";
    if (value.split(/[\\/]+/).includes("..")) return "must not contain '..'";
    const real = resolveReal(path.normalize(value));
    if (!this.roots.some((root) => real === root || real.startsWith(root + path.sep))) return `is outside the directories this engine allows (${this.roots.join(", ")})`;
    return undefined;
  }

  /**
   * Check the paths of a parsed request body (undefined: an optional path not given); throws a
   * ValidationError naming each offending field.
   */
  check(what: string, fields: Array<[string, unknown]>): void {
    const failures: FieldFailure[] = fields.flatMap(([property, value]) => {
      const reason = value === undefined ? undefined : this.problem(value);
      return reason ? [{ property, reason: `${typeof value === "string" ? value : JSON.stringify(value)} ${reason}` }] : [];
    });
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
