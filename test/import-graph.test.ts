import { strict as assert } from "node:assert";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { tempDir } from "./helpers";
import { cycleText, cycles, folderArrows } from "./import-graph";

const ROOT = path.resolve(__dirname, "..");

describe("import graph", () => {
  it("has no cycle between folders", () => {
    const found = cycles(folderArrows(ROOT)).map(cycleText);
    assert.deepEqual(found, [], `imports must point one way between folders; cycles:\n  ${found.join("\n\n  ")}`);
  });

  it("schema/ imports nothing of ours", () => {
    const arrows = folderArrows(ROOT).filter((arrow) => arrow.from === "schema");
    assert.deepEqual(
      arrows.map((arrow) => arrow.example),
      [],
      "schema/ is the wire contract every part imports",
    );
  });

  // The checker itself: a cycle planted in a small tree is found and named.
  describe("the checker", () => {
    const dir = tempDir();

    it("names a cycle through re-exports, dynamic imports and require(), and ignores imports in strings", async () => {
      const files: Record<string, string> = {
        "engine/a/one.ts": `export * from "../b/two";\n`,
        "engine/b/two.ts": `export const two = () => import("../c/three");\n`,
        "engine/c/three.ts": `const code = \`import "../d/four";\`;\nexport const three = require("../a/one");\n`,
        "engine/d/four.ts": `import "../a/one";\n`,
        "schema/index.ts": `export const x = 1;\n`,
      };
      for (const [file, text] of Object.entries(files)) {
        await fs.mkdir(path.join(dir, path.dirname(file)), { recursive: true });
        await fs.writeFile(path.join(dir, file), text);
      }
      const found = cycles(folderArrows(dir)).map(cycleText);
      assert.deepEqual(found, [
        "engine/a -> engine/b (engine/a/one.ts imports engine/b/two.ts)\n" +
          "  engine/b -> engine/c (engine/b/two.ts imports engine/c/three.ts)\n" +
          "  engine/c -> engine/a (engine/c/three.ts imports engine/a/one.ts)",
      ]);
    });
  });
});
