/**
 * The soak with change tracking (BENCH_SOAK_SOURCE=kvm): BENCH_SOAK_ITEMS kvm machines (100), each a raw
 * sparse disk of BENCH_SOAK_DISK_MIB (4096) with BENCH_SOAK_DATA_MIB (64) of data, served by its own
 * qemu-storage-daemon, written through QEMU by qemu-io, replicated by one daemon at 30 s for
 * BENCH_SOAK_MINUTES (10). Writes soak-kvm.{md,json}.
 *
 * The slow disk (BENCH_SOAK_SLOW=1): BENCH_SOAK_ITEMS kvm machines (10), run A with every disk as it is,
 * run B with vm01's disk behind a QEMU throttle of BENCH_SOAK_SLOW_BPS bytes/s of reads (4096: a cycle reads only the 4 KiB pieces the guest wrote, as QEMU skips holes, about 96 KiB per 30 s, so about 24 s a cycle): the others'
 * RPO side by side. Writes soak-slow.{md,json}.
 * A quick try: BENCH_SOAK_ITEMS=10 BENCH_SOAK_MINUTES=2 BENCH_SOAK_IDLE_S=5.
 */
import * as path from "node:path";
import { describeMachine, MIB, PageCache } from "../common/measure";
import type { SuiteContext } from "../common/suite";
import { missingQemuTools } from "../../test/fixtures/qemu";
import { kvmRun, type KvmRunOptions } from "./soak-kvm";
import { kvmReport, slowReport, type KvmResults, type SlowResults } from "./soak-kvm-report";
import { checkSpace, numberFromEnv, soakSettings, sourceState } from "./soak-settings";
import { writeResultFiles } from "../common/report";

/** The data at the start of each disk, the guest's files: the vault and the images hold it, the rest is a hole. */
const dataMiB = () => numberFromEnv("BENCH_SOAK_DATA_MIB", 64, true);

async function prepare(workDir: string, items: number, data: number, runs: number): Promise<void> {
  const missing = missingQemuTools(["qemu-storage-daemon", "qemu-io"]);
  if (missing.length) throw new Error(`the kvm soak needs ${missing.join(", ")}`);
  // Images and a vault of about their data each run, plus room to spare.
  await checkSpace(workDir, runs * items * data * MIB * 2.2 + 2 * 2 ** 30);
}

export async function kvmSoakSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const settings = soakSettings({ items: 100, diskMiB: 4096 });
  const data = dataMiB();
  await prepare(workDir, settings.items, data, 1);
  log(`kvm soak: ${settings.items} machines × ${settings.diskMiB} MiB (${data} MiB of data each), ${settings.minutes} min at 30 s`);
  const run = await kvmRun({ workDir, settings, dataMiB: data, log });
  const results: KvmResults = { machine: describeMachine(new PageCache()), source: await sourceState(), settings, dataMiB: data, run };
  const { markdown, table } = kvmReport(results);
  console.log(`\n${table}`);
  await writeResultFiles(resultsDir, "soak-kvm", markdown, results);
}

export async function slowDiskSuite({ workDir, resultsDir, log }: SuiteContext): Promise<void> {
  const settings = soakSettings({ items: 10, diskMiB: 4096 });
  const data = dataMiB();
  const bytesPerSecond = numberFromEnv("BENCH_SOAK_SLOW_BPS", 4096, true);
  await prepare(workDir, settings.items, data, 2);
  const one = (name: string, extra: Partial<KvmRunOptions>) =>
    kvmRun({ workDir: path.join(workDir, name), settings, dataMiB: data, log: (line) => log(`[${name}] ${line}`), ...extra });
  log(`slow disk: ${settings.items} kvm machines, run A all normal, run B with vm01's reads throttled to ${bytesPerSecond} bytes/s`);
  const a = await one("a", {});
  const b = await one("b", { throttleBytesPerSecond: bytesPerSecond });
  const results: SlowResults = { machine: describeMachine(new PageCache()), source: await sourceState(), settings, dataMiB: data, a, b };
  const { markdown, table } = slowReport(results);
  console.log(`\n${table}`);
  await writeResultFiles(resultsDir, "soak-slow", markdown, results);
}
