// A stack's configuration as the Pulumi CLI assembles it: the project's defaults (`config:` in
// Pulumi.yaml), then the stack file Pulumi.<stack>.yaml, then `--config` on the command line, which wins.
// Keys are `<namespace>:<name>`; a key without a namespace belongs to the project where Pulumi allows it
// (Pulumi.yaml and the command line; in a stack file it is an error, as config.ParseKey makes it:
// pulumi/pulumi sdk/go/common/resource/config/key.go). Values reach the program as strings, objects
// as JSON (PULUMI_CONFIG). Encrypted (`secure:`) values need the stack's secrets provider, which the
// harness does not have: they fail naming the key.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Project } from "./project";

// js-yaml ships no types here, and the harness needs only load().
const yaml = require("js-yaml") as { load(text: string): unknown };

type Config = Record<string, string>;

/** The stack's config with full keys, as the program (PULUMI_CONFIG) and the provider (Configure) get it. */
export function stackConfig(project: Project, stack: string, commandLine: Config): Config {
  return {
    ...projectDefaults(project),
    ...stackFile(project, stack),
    ...qualify(project, commandLine, "--config", true),
  };
}

function readYamlConfig(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (config === undefined || config === null) return {};
  if (typeof config !== "object" || Array.isArray(config)) throw new Error(`${file}: config must be a map of keys to values`);
  return config as Record<string, unknown>;
}

/** Pulumi.yaml `config:` — `key: value`, or `key: {type, default, description}` (only a default gives a value). */
function projectDefaults(project: Project): Config {
  const file = path.join(project.dir, "Pulumi.yaml");
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(readYamlConfig(file))) {
    const declared = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
    const isDeclaration = declared && ("type" in declared || "default" in declared || "value" in declared || "description" in declared);
    const value = isDeclaration ? (declared.value ?? declared.default) : raw;
    if (value !== undefined) values[key] = value;
  }
  return qualify(project, values, file, true);
}

function stackFile(project: Project, stack: string): Config {
  const file = path.join(project.dir, `Pulumi.${stack}.yaml`);
  return qualify(project, readYamlConfig(file), file, false);
}

function qualify(project: Project, values: Record<string, unknown>, source: string, projectNamespace: boolean): Config {
  const out: Config = {};
  for (const [key, value] of Object.entries(values)) {
    const colons = key.split(":").length - 1;
    if (colons === 0 && !projectNamespace) {
      throw new Error(`${source}: config key "${key}" has no namespace: write it as "${project.name}:${key}" (configuration keys are <namespace>:<name>)`);
    }
    if (colons > 1) throw new Error(`${source}: config key "${key}" is not <namespace>:<name>`);
    const full = colons === 0 ? `${project.name}:${key}` : key;
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value) {
      throw new Error(
        `${source}: config key "${full}" is an encrypted (secure) value, which the harness cannot decrypt: pass it with --config ${full}=VALUE instead`,
      );
    }
    out[full] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}
