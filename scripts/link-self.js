// `npm prepare`: node_modules/lifeboat -> the repository root (a relative symlink), so programs and
// examples inside this repository `import * as lifeboat from "lifeboat"` exactly as users do.
// Idempotent: a correct link is left alone; anything else in its place is replaced.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "lifeboat");
const target = path.relative(path.dirname(link), root) || ".";

let current;
try {
  current = fs.readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== target) {
  fs.rmSync(link, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, "dir");
}
