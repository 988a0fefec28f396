import { promises as fs } from "node:fs";
import type { BenchContext } from "./replication";
import { runWorker, type MaterializeFigures, type Measured, type ProtectFigures } from "../common/worker-protocol";

/** One vault's initial replication and the materialize of its point, encrypted at rest or not. */
export interface EncryptionRun {
  encrypted: boolean;
  protect: Measured<ProtectFigures>;
  materialize: Measured<MaterializeFigures>;
}

/** Runs of each kind: a 10% target needs more than the suite's 3 runs to see through a busy machine. */
export const ENCRYPTION_RUNS = 5;

/**
 * What encryption at rest costs: initial replication of the image into a fresh vault, then materialize of
 * its point, with and without encryption, ENCRYPTION_RUNS times each. The two kinds alternate (and swap
 * which goes first each run), so a machine that gets busier or quieter meanwhile sways both alike.
 */
export async function benchEncryption({ workspace, cache, log }: BenchContext): Promise<EncryptionRun[]> {
  const runs: EncryptionRun[] = [];
  for (let run = 1; run <= ENCRYPTION_RUNS; run++) {
    for (const encrypted of run % 2 ? [true, false] : [false, true]) {
      const kind = encrypted ? "encrypted" : "unencrypted";
      log(`encryption cost, run ${run} of ${ENCRYPTION_RUNS}: initial replication and materialize, ${kind}`);
      await fs.rm(workspace.vault, { recursive: true, force: true });
      await cache.drop();
      const protect = await runWorker("protect", [workspace.vault, workspace.image, kind]);
      await cache.drop();
      const materialize = await runWorker("materialize", [workspace.vault, workspace.materialized]);
      runs.push({ encrypted, protect, materialize });
    }
  }
  await fs.rm(workspace.vault, { recursive: true, force: true });
  return runs;
}
