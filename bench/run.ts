/**
 * Benchmarks: `npm run bench` runs every suite; BENCH_SUITE=replication|failover|soak|deploy|nbd|tracking runs one. Each suite
 * measures against named baselines in the same run and writes bench/results/<suite>.{md,json}. Progress
 * goes to stderr, the results tables to stdout. Each suite has its folder (replication/, failover/, soak/,
 * deploy/, nbd/, tracking/; what they share is in common/): see its <suite>-suite.ts for its size settings (BENCH_IMAGE_MIB,
 * BENCH_PLAN_DISK_MIB, BENCH_SOAK_*, BENCH_DEPLOY_RESOURCES, BENCH_NBD_IMAGE_MIB, BENCH_TRACKING_GIB).
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { deploySuite } from "./deploy/deploy-suite";
import { failoverSuite } from "./failover/failover-suite";
import { nbdSuite } from "./nbd/nbd-suite";
import { replicationSuite } from "./replication/replication-suite";
import { soakSuite } from "./soak/soak-suite";
import { trackingSuite } from "./tracking/tracking-suite";
import type { Suite } from "./common/suite";

const WORK_DIR = path.resolve(__dirname, "../../bench/work");
const RESULTS_DIR = path.resolve(__dirname, "../../bench/results");

const SUITES: Record<string, Suite> = {
  replication: replicationSuite,
  failover: failoverSuite,
  soak: soakSuite,
  deploy: deploySuite,
  nbd: nbdSuite,
  tracking: trackingSuite,
};

function chosenSuites(): string[] {
  const chosen = process.env.BENCH_SUITE;
  if (chosen === undefined || chosen === "") return Object.keys(SUITES);
  if (!(chosen in SUITES)) throw new Error(`BENCH_SUITE must be one of ${Object.keys(SUITES).join(", ")}, got '${chosen}'`);
  return [chosen];
}

const log = (line: string) => console.error(`[bench] ${line}`);

async function main(): Promise<void> {
  const names = chosenSuites();
  await fs.rm(WORK_DIR, { recursive: true, force: true }); // what a crashed run left
  // Vaults made by the bench keep their key-encryption keys here, not in the user's ~/.config.
  process.env.LIFEBOAT_KEY_DIR = path.join(WORK_DIR, "keys");
  try {
    for (const name of names) {
      // Each suite's files go before the next starts: together they would need tens of GiB.
      const workDir = path.join(WORK_DIR, name);
      await fs.mkdir(workDir, { recursive: true });
      try {
        await SUITES[name]({ workDir, resultsDir: RESULTS_DIR, log });
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    }
  } finally {
    await fs.rm(WORK_DIR, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
