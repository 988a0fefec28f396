/**
 * Where the daemon's CPU time went, from the .cpuprofile files `node --cpu-prof` writes at exit (one per
 * thread: the main thread, and each worker that addresses blocks). Time is sampled stacks; a sample's
 * work is named by the first frame from the leaf up that a rule below recognizes.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Work kinds, tried in this order on each frame from the leaf up; the first that matches names the sample. */
const RULES: Array<[string, (frame: CallFrame) => boolean]> = [
  ["idle (waiting for I/O or timers)", (f) => f.functionName === "(idle)"],
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["V8 and native, unattributed", (f) => f.functionName === "(program)"],
  ["xxh64 change hashes", (f) => f.functionName === "changeHash" || f.url.includes("xxhash")],
  ["zero-block check", (f) => f.functionName === "isZero"],
  ["SHA-256 block ids", (f) => f.functionName === "blockId" || f.url.includes("internal/crypto/hash")],
  ["zstd", (f) => f.url.includes("zstd")],
  ["SQLite catalog", (f) => f.url.includes("better-sqlite3") || f.url.includes("kysely") || f.url.includes("/engine/catalog/")],
  ["block store", (f) => f.url.includes("/engine/store/")],
  ["HTTP API", (f) => f.url.includes("fastify") || f.url.includes("find-my-way") || f.url.includes("/engine/server/") || f.url.includes("/engine/auth/")],
  ["disk reader", (f) => f.url.includes("/engine/disks/")],
  ["replication (status, cycles, scheduler)", (f) => f.url.includes("/engine/replication/")],
  ["engine, other", (f) => f.url.includes("/engine/")],
  ["Node internals", (f) => f.url.startsWith("node:")],
];
const OTHER = "other";

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface ThreadProfile {
  /** "main", or "workers" for all worker threads together. */
  thread: string;
  files: number;
  ms: number;
  categories: Share[];
  /** Functions by their own time (not their callees'), each with the caller most of that time came from. */
  topSelf: Share[];
  /** Engine functions (dist/, not node_modules nor the bench's SQL timer) by time with their callees, each counted once per sample. */
  topInclusive: Share[];
}

const TOP = 15;

const where = (f: CallFrame) => `${f.functionName || "(anonymous)"} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : "(native)"}`;

function shares(totals: Map<string, number>, all: number, limit = Infinity): Share[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / all }));
}

const add = (totals: Map<string, number>, key: string, us: number) => totals.set(key, (totals.get(key) ?? 0) + us);

function analyze(profiles: CpuProfile[], thread: string): ThreadProfile {
  const categories = new Map<string, number>();
  const self = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  const inclusive = new Map<string, number>();
  let all = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const categoryOf = new Map<number, string>();
    const category = (id: number): string => {
      const known = categoryOf.get(id);
      if (known) return known;
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const rule = RULES.find(([, test]) => test(byId.get(at!)!.callFrame));
        if (rule) {
          categoryOf.set(id, rule[0]);
          return rule[0];
        }
      }
      categoryOf.set(id, OTHER);
      return OTHER;
    };
    // A sample's time is the gap to the next sample.
    for (let i = 0; i < profile.samples.length; i++) {
      const us = profile.timeDeltas[i + 1] ?? 0;
      const id = profile.samples[i];
      all += us;
      add(categories, category(id), us);
      const leaf = where(byId.get(id)!.callFrame);
      add(self, leaf, us);
      const caller = parent.get(id);
      if (caller !== undefined) add(callers.get(leaf) ?? callers.set(leaf, new Map()).get(leaf)!, where(byId.get(caller)!.callFrame), us);
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        if (!frame.url.includes("/dist/") || frame.url.includes("node_modules") || frame.url.includes("/dist/bench/")) continue;
        const key = where(frame);
        if (!seen.has(key)) add(inclusive, key, us);
        seen.add(key);
      }
    }
  }
  const topSelf = shares(self, all, TOP).map((share) => {
    const [top] = shares(callers.get(share.name) ?? new Map(), all, 1);
    return top ? { ...share, name: `${share.name} ← ${top.name}` } : share;
  });
  return { thread, files: profiles.length, ms: all / 1000, categories: shares(categories, all), topSelf, topInclusive: shares(inclusive, all, TOP) };
}

/** The profiles in a directory: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread. */
export async function analyzeProfiles(dir: string): Promise<ThreadProfile[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const main: CpuProfile[] = [];
  const workers: CpuProfile[] = [];
  for (const file of files) {
    const profile = JSON.parse(await fs.readFile(path.join(dir, file), "utf8")) as CpuProfile;
    (file.split(".")[4] === "0" ? main : workers).push(profile);
  }
  return [...(main.length ? [analyze(main, "main")] : []), ...(workers.length ? [analyze(workers, "workers")] : [])];
}
