import { promises as fs } from "node:fs";
import * as path from "node:path";
import { runCommand, timed } from "./measure";

export const CP_BASELINE = "cp --sparse=never + sync";
export const CP_ALL_BASELINE = "cp --sparse=auto + sync";
export const RSYNC_BASELINE = "rsync -I --no-whole-file --inplace";
export const DD_BASELINE = "dd if=IMG of=/dev/null bs=4M";

/** Read a file once at the device's pace, as dd does: the floor under any scan of it. */
export async function ddRead(file: string): Promise<number> {
  const { ms } = await runCommand("dd", [`if=${file}`, "of=/dev/null", "bs=4M"]);
  return ms;
}

/**
 * Copy a file and make the copy durable, as the engine makes its packs durable: cp writes every byte
 * (zeros too: --sparse=never), then sync fsyncs that one file. Returns the wall time of both.
 */
export async function durableCopy(source: string, target: string): Promise<number> {
  await fs.rm(target, { force: true });
  const { ms } = await timed(async () => {
    await runCommand("cp", ["--sparse=never", source, target]);
    await runCommand("sync", [target]);
  });
  return ms;
}

/**
 * Copy files into an empty directory with one cp and sync the copies: restoring disk images by hand.
 * --sparse=auto keeps holes the sources have (these have none; their zeros are written out) and
 * --reflink=never keeps a copy-on-write file system from sharing extents instead of copying data.
 */
export async function durableCopyAll(sources: string[], targetDir: string): Promise<number> {
  const { ms } = await timed(async () => {
    await runCommand("cp", ["--sparse=auto", "--reflink=never", ...sources, targetDir]);
    await runCommand(
      "sync",
      sources.map((source) => path.join(targetDir, path.basename(source))),
    );
  });
  return ms;
}

/** Copy a file as an independent file (no shared extents), to set up a baseline's destination. */
export async function plainCopy(source: string, target: string): Promise<void> {
  await runCommand("cp", ["--reflink=never", source, target]);
}

const onPath = (program: string) =>
  runCommand("sh", ["-c", `command -v ${program}`]).then(
    () => true,
    () => false,
  );

/** rsync, installed from the distribution when missing. False (with the reason logged) when it cannot be had. */
export async function ensureRsync(log: (line: string) => void): Promise<boolean> {
  if (await onPath("rsync")) return true;
  log("rsync is not installed; installing it with apt-get");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await runCommand("apt-get", ["update"], env);
    await runCommand("apt-get", ["install", "-y", "rsync"], env);
  } catch (error) {
    log(`could not install rsync: ${(error as Error).message.split("\n")[0]}`);
    return false;
  }
  return onPath("rsync");
}

export interface RsyncFigures {
  ms: number;
  /** Bytes rsync had to send because no block of the destination matched them. */
  literalBytes: number;
  matchedBytes: number;
}

/**
 * Bring `target` up to date with `source` by rsync's delta algorithm: -I compares every file whatever
 * its times, --no-whole-file forces the delta algorithm even though both are local, --inplace writes
 * only the changed ranges, as a replica would be updated.
 */
export async function rsyncDelta(source: string, target: string): Promise<RsyncFigures> {
  const { ms, stdout } = await runCommand("rsync", rsyncDeltaArgs(source, target));
  return rsyncFigures(ms, stdout);
}

/** rsync's arguments for rsyncDelta, for a caller that runs it its own way (e.g. under /usr/bin/time). */
export const rsyncDeltaArgs = (source: string, target: string): string[] => ["-I", "--no-whole-file", "--inplace", "--stats", source, target];

/** The figures of an rsyncDelta run from its wall time and its --stats output. */
export const rsyncFigures = (ms: number, stdout: string): RsyncFigures => ({
  ms,
  literalBytes: statBytes(stdout, "Literal data"),
  matchedBytes: statBytes(stdout, "Matched data"),
});

/** A byte count from rsync's --stats, e.g. "Literal data: 10,747,904 bytes". */
function statBytes(stats: string, label: string): number {
  const match = new RegExp(`^${label}: ([\\d,]+) bytes`, "m").exec(stats);
  if (!match) throw new Error(`rsync --stats printed no '${label}' line:\n${stats}`);
  return Number(match[1].replace(/,/g, ""));
}
