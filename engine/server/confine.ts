// The daemon's path rule lives in schema/paths.ts, shared with the provider's preview checks.
export { defaultAllowedPaths, PathPolicy } from "../../schema/paths";
