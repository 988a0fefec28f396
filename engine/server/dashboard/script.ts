import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { EngineError } from "../../errors";

/** The dashboard's script, as scripts/bundle-dashboard.js writes it beside the compiled dashboard module. */
const BUNDLE = "app.js";

/**
 * Where `npm run build` put the bundle. Compiled, this module lies in dist/ beside it; under ts-node (the
 * tests) this module is the source file and the bundle the built one, at the same place under dist/.
 */
function bundlePath(): string {
  if (path.extname(__filename) === ".js") return path.join(__dirname, BUNDLE);
  const root = path.resolve(__dirname, "..", "..", "..");
  return path.join(root, "dist", path.relative(root, __dirname), BUNDLE);
}

let loaded: Promise<string> | undefined;

/** The script's text, read once. A tree that was never built says so instead of serving nothing. */
export function dashboardScript(): Promise<string> {
  loaded ??= readFile(bundlePath(), "utf8").catch((error: NodeJS.ErrnoException) => {
    loaded = undefined;
    throw new EngineError("InternalError", `the dashboard's script ${bundlePath()} cannot be read (${error.code ?? error.message}): run npm run build`);
  });
  return loaded;
}
