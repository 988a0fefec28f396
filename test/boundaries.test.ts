// The seams issue 12 drew, held by a scan of the sources: the catalog's queries live in engine/catalog/,
// blocks are reached only through the store stack, and an item's state has one writer. A second catalog
// (PostgreSQL) or backend (object storage) then replaces one folder, not code across the engine.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { sourceFiles } from "./import-graph";

const ROOT = path.resolve(__dirname, "..");
const files = sourceFiles(ROOT).filter((f) => /^(engine|agent|cli|client|provider|components)\//.test(f));

/** Files (outside `allowed`) whose source matches `pattern`, with the first match of each. */
function offenders(pattern: RegExp, allowed: (file: string) => boolean): string[] {
  return files
    .filter((f) => !allowed(f))
    .flatMap((f) => {
      const found = readFileSync(path.join(ROOT, f), "utf8").match(pattern);
      return found ? [`${f}: ${found[0]}`] : [];
    });
}

describe("boundaries between the engine's parts", () => {
  it("every catalog query is in engine/catalog/", () => {
    const found = offenders(/\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(|\bsql`/, (f) => f.startsWith("engine/catalog/"));
    assert.deepEqual(found, [], "queries belong to a module of engine/catalog/ (one per table or aggregate)");
  });

  it("only the block index touches the blocks table", () => {
    const found = offenders(
      /\.(selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin)\(\s*["'`]blocks\b/,
      (f) => f === "engine/catalog/sql-pack-index.ts" || f.startsWith("engine/catalog/migrations/"),
    );
    assert.deepEqual(found, [], "blocks are reached through the store stack (engine/store/), whose index is catalog/sql-pack-index.ts");
  });

  it("backends are built only by their own folder and the stack's factories", () => {
    const found = offenders(/\bnew LocalBackend\(/, (f) => f.startsWith("engine/store/local/"));
    assert.deepEqual(found, [], "callers take a backend factory (VaultOptions.backend, AgentOptions.backend) instead");
  });

  it("an item's state columns are written only by the state machine's writer", () => {
    const found = offenders(/\bupdateItemRow\b/, (f) => f === "engine/inventory/item-state-write.ts" || f === "engine/catalog/items.ts");
    assert.deepEqual(found, [], "state changes go through writeItemState (engine/inventory/item-state-write.ts)");
  });
});
