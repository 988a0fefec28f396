// Where the project's own @pulumi/pulumi lives. The CLI's language host runs the program through the SDK the
// program installed (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go: `defaultRunPath =
// "@pulumi/pulumi/cmd/run"`, resolved from the program's directory; the dynamic provider likewise runs from the
// program's node_modules), so the program, its resources and the provider share one SDK. The harness's own copy
// is the fallback for a project that has none.
import * as path from "node:path";

export function sdkEntry(projectDir: string, entry: "cmd/run" | "cmd/dynamic-provider"): string {
  const request = `@pulumi/pulumi/${entry}`;
  try {
    return require.resolve(request, { paths: [path.resolve(projectDir)] });
  } catch {
    return require.resolve(request);
  }
}
