import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

/**
 * The folder-level import graph of the repository, for the rule that imports point one way.
 *
 * A node is a folder: each top-level folder (agent, cli, client, components, schema, examples, ...), with
 * these split finer because their parts are layers of their own: engine/<sub> (anything deeper belongs to
 * it), each file directly in engine/ (the facade engine.ts and vault.ts sit above the subfolders, clock.ts
 * and errors.ts below them), provider/runtime, bench/<suite>, and test/harness (the Pulumi stand-in that
 * tests, benchmarks and `npm run deploy` all use). Files at the root are "(root)".
 */
export function folderOf(file: string): string {
  const parts = file.split("/");
  const [top, sub] = parts;
  if (parts.length === 1) return "(root)";
  if (top === "engine") return parts.length === 2 ? file : `engine/${sub}`;
  if (top === "provider" && sub === "runtime" && parts.length > 2) return "provider/runtime";
  if (top === "bench" && parts.length > 2) return `bench/${sub}`;
  if (top === "test" && sub === "harness" && parts.length > 2) return "test/harness";
  return top!;
}

/** One import between two folders, with the first file pair that makes it (to name it in a failure). */
export interface Arrow {
  from: string;
  to: string;
  example: string;
}

const SKIP = new Set(["node_modules", "dist", "results", "work"]);

/** Every .ts file under `root` (relative, with /), leaving out node_modules, dist, hidden and bench output folders. */
export function sourceFiles(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir))) {
    if (entry.startsWith(".") || SKIP.has(entry)) continue;
    const rel = dir ? `${dir}/${entry}` : entry;
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sourceFiles(root, rel));
    else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** The repository file an import specifier names, or undefined for packages and node: built-ins. */
function resolve(root: string, from: string, spec: string): string | undefined {
  let base: string;
  if (spec.startsWith(".")) base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  else if (spec === "lifeboat") base = "index";
  else if (spec.startsWith("lifeboat/dist/")) base = spec.slice("lifeboat/dist/".length);
  else return undefined;
  base = base.replace(/\.js$/, "");
  return [`${base}.ts`, `${base}/index.ts`].find((file) => existsSync(path.join(root, file)));
}

/** The arrows between folders: imports, re-exports, dynamic imports and require() calls (not those inside strings). */
export function folderArrows(root: string, files = sourceFiles(root)): Arrow[] {
  const arrows = new Map<string, Arrow>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      const target = resolve(root, file, fileName);
      if (!target) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      const key = `${from}\n${to}`;
      if (from !== to && !arrows.has(key)) arrows.set(key, { from, to, example: `${file} imports ${target}` });
    }
  }
  return [...arrows.values()];
}

/**
 * The cycles of the graph, as the arrows that go round each: in every strongly connected component, the
 * shortest cycle through each of its folders (the same cycle found from two folders is listed once).
 */
export function cycles(arrows: Arrow[]): Arrow[][] {
  const next = new Map<string, Arrow[]>();
  for (const arrow of arrows) next.set(arrow.from, [...(next.get(arrow.from) ?? []), arrow]);
  const found = new Map<string, Arrow[]>();
  for (const component of components(next)) {
    if (component.size < 2) continue;
    for (const start of [...component].sort()) {
      const cycle = shortestCycle(next, component, start);
      const first = cycle.indexOf(cycle.reduce((min, arrow) => (arrow.from < min.from ? arrow : min)));
      const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
      found.set(rotated.map((arrow) => arrow.from).join(" "), rotated);
    }
  }
  return [...found.values()];
}

/** Tarjan's strongly connected components. */
function components(next: Map<string, Arrow[]>): Array<Set<string>> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: Array<Set<string>> = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const { to } of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component = new Set<string>();
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.add(member);
      } while (member !== node);
      out.push(component);
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return out;
}

/** The shortest way round from `start` back to itself (breadth first inside its component). */
function shortestCycle(next: Map<string, Arrow[]>, component: Set<string>, start: string): Arrow[] {
  const via = new Map<string, Arrow>();
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    for (const arrow of next.get(queue[at]!) ?? []) {
      if (!component.has(arrow.to)) continue;
      if (arrow.to === start) {
        const path = [arrow];
        for (let node = arrow.from; node !== start; node = via.get(node)!.from) path.unshift(via.get(node)!);
        return path;
      }
      if (!via.has(arrow.to)) {
        via.set(arrow.to, arrow);
        queue.push(arrow.to);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

/** A cycle as one line per arrow: `a -> b (x.ts imports y.ts)`. */
export function cycleText(cycle: Arrow[]): string {
  return cycle.map((arrow) => `${arrow.from} -> ${arrow.to} (${arrow.example})`).join("\n  ");
}
