/**
 * Mocha root hook: vaults made by tests keep their key-encryption keys in a directory of the run's own
 * ($LIFEBOAT_KEY_DIR, inherited by the processes tests start), not in the user's ~/.config/lifeboat/keys.
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const made = process.env.LIFEBOAT_KEY_DIR ? undefined : mkdtempSync(path.join(os.tmpdir(), "lifeboat-keys-"));
if (made) process.env.LIFEBOAT_KEY_DIR = made;

export const mochaHooks = {
  afterAll(): void {
    if (made) rmSync(made, { recursive: true, force: true });
  },
};
