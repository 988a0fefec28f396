// The program side of every Lifeboat resource: one shared provider object per resource kind, whose
// hooks capture nothing but two strings (the kind and the runtime's path). Pulumi serializes this
// object into each resource's `__provider`; the work happens in ./runtime, loaded inside the hook,
// so no zod schema, client or socket is ever captured (see notes/pulumi.md).
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type * as Runtime from "./runtime";
import type { Kind } from "./runtime/resource";

/** Absolute path of the compiled runtime, recorded in each resource's serialized provider. */
const RUNTIME = path.join(__dirname, "runtime");

/**
 * Loads the runtime by its recorded path; a state written where the package has since moved falls
 * back to the `lifeboat` package as the program's directory resolves it.
 */
function load(runtime: string): typeof Runtime {
  try {
    return require(runtime);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code !== "MODULE_NOT_FOUND" || !String(e.message).includes(runtime)) throw error;
    return require("lifeboat/dist/provider/runtime");
  }
}

export function providerFor(kind: Kind): pulumi.dynamic.ResourceProvider {
  const runtime = RUNTIME;
  return {
    configure: (req) =>
      load(runtime).configure({
        endpoint: req.config.get("lifeboat:endpoint"),
        token: req.config.get("lifeboat:token"),
        allowedPaths: req.config.get("lifeboat:allowedPaths"),
      }),
    check: (olds, news) => load(runtime).check(kind, olds, news),
    diff: (id, olds, news) => load(runtime).diff(kind, id, olds, news),
    create: (inputs) => load(runtime).create(kind, inputs),
    read: (id, props) => load(runtime).read(kind, id, props),
    update: (id, olds, news) => load(runtime).update(kind, id, olds, news),
    delete: (id, props) => load(runtime).remove(kind, id, props),
  };
}
