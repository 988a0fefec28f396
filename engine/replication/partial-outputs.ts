import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import type { Vault } from "../vault";
import { ORPHAN_GRACE_MS } from "../store/packed/packed-block-store";
import { ownerState } from "../process/owner";
import { forgetPartialOutput, partialOutputs, recordPartialOutput } from "../catalog/partial-outputs";
import { unlessMissing } from "../io/exists";

/** A file written outside the vault takes its name only when complete; until then it has this suffix. */
export const PARTIAL_SUFFIX = ".partial";

/**
 * Write `target` through `body`, which fills the temporary file it is given; the file is renamed to
 * `target` once body resolves, and removed when it fails. The temporary file is recorded in the catalog
 * before it exists, so that if this process is killed, garbage collection finds and removes it (it lives
 * in the user's directory, not the vault's).
 */
export async function writeThroughPartial(vault: Vault, target: string, body: (partial: string) => Promise<void>): Promise<void> {
  const partial = path.resolve(`${target}${PARTIAL_SUFFIX}`); // found again from any working directory
  const owner = { host: hostname(), pid: process.pid, started_at: Date.now() };
  await recordPartialOutput(vault.db, partial, owner);
  try {
    await body(partial);
    await fs.rename(partial, target);
  } catch (error) {
    // Half a disk image is of no use, and on a full disk it holds the space others need.
    await fs.rm(partial, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    // Best effort (the catalog's disk may be the full one): a record whose file is gone is dropped by GC.
    await forgetPartialOutput(vault.db, partial).catch(() => undefined);
  }
}

/**
 * Remove the partial outputs that killed processes left: those whose writer is not running any more and
 * that nobody wrote to for the agents' grace period. Returns how many files went.
 */
export async function collectPartialOutputs(vault: Vault): Promise<number> {
  let removed = 0;
  for (const row of await partialOutputs(vault.db)) {
    const stats = await unlessMissing(fs.stat(row.path));
    if (stats) {
      // Only the pid is kept, so a reused one keeps the file until that process ends too.
      if (ownerState({ host: row.host, pid: row.pid, start: null }) === "alive") continue;
      if (Date.now() - stats.mtimeMs < ORPHAN_GRACE_MS) continue;
      await fs.rm(row.path, { force: true });
      removed++;
    }
    await forgetPartialOutput(vault.db, row.path);
  }
  return removed;
}
