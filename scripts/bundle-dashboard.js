// `npm run build`, after tsc: bundles the dashboard's browser code (engine/server/dashboard/browser,
// type-checked by its own tsconfig) into one script beside the compiled dashboard module, where
// engine/server/dashboard/script.ts reads it. One strict-mode function scope (esbuild writes the
// "use strict"), so nothing leaks onto window; no source map, nothing fetched at run time.
"use strict";
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
const dashboard = path.join("engine", "server", "dashboard");

esbuild
  .build({
    entryPoints: [path.join(root, dashboard, "browser", "main.ts")],
    outfile: path.join(root, "dist", dashboard, "app.js"),
    tsconfig: path.join(root, dashboard, "browser", "tsconfig.json"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "warning",
  })
  .catch(() => process.exit(1));
