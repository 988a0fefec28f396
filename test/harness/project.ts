// What the harness needs from a Pulumi project directory: the project name, the entry point and
// the runtime options the CLI's Node.js language host would pass on (the stack config: stack-config.ts).
import * as fs from "node:fs";
import * as path from "node:path";

export interface Project {
  dir: string;
  name: string;
  /** The program argument the language host passes: `main` from Pulumi.yaml, or "." */
  main: string;
  typescript: boolean;
}

/**
 * Reads Pulumi.yaml. Only the few keys the language host uses are read, with a line-based parser:
 * the harness has no YAML dependency of its own and these keys are plain scalars.
 */
export function readProject(dir: string): Project {
  const file = path.join(dir, "Pulumi.yaml");
  if (!fs.existsSync(file)) throw new Error(`${dir}: no Pulumi.yaml`);
  const text = fs.readFileSync(file, "utf8");
  const scalar = (re: RegExp): string | undefined =>
    re
      .exec(text)?.[1]
      ?.trim()
      .replace(/^["']|["']$/g, "");
  const name = scalar(/^name:\s*(.+)$/m);
  if (!name) throw new Error(`${file}: no project name`);
  const typescript = scalar(/^\s+typescript:\s*(\S+)\s*$/m);
  return { dir: path.resolve(dir), name, main: scalar(/^main:\s*(.+)$/m) ?? ".", typescript: typescript !== "false" };
}
