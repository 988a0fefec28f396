// The harness's stack state: one JSON file per stack, in registration order, so that deletes can
// run in reverse order (dependents were registered after what they depend on).
import * as fs from "node:fs";
import * as path from "node:path";
import type { PropertyMap } from "./values";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  /** false for component resources and the stack itself: they have no provider and no id. */
  custom: boolean;
  id?: string;
  parent?: string;
  /** Inputs after the provider's check: they become `olds` of the next check. */
  inputs: PropertyMap;
  /** What the provider returned (including `__provider`): `olds` of diff, update, read and delete. */
  outputs: PropertyMap;
}

export interface StackState {
  version: 1;
  resources: ResourceState[];
}

export function stateFile(stateDir: string, stack: string): string {
  return path.join(stateDir, `${stack}.json`);
}

export function loadState(file: string): StackState {
  if (!fs.existsSync(file)) return { version: 1, resources: [] };
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as StackState;
  if (parsed.version !== 1 || !Array.isArray(parsed.resources)) throw new Error(`${file}: not a harness state file`);
  return parsed;
}

export function saveState(file: string, state: StackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename, so an interrupted run never leaves half a state file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, file);
}
