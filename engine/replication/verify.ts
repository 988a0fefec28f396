import type { Vault } from "../vault";
import { Job, type JobView, type Task } from "../jobs/jobs";
import { whenJobStarts } from "../jobs/job-started";
import { itemRow, type ItemRow } from "../inventory/items";
import type { VerifyPoints, VerifyRequest } from "../../schema";
import { chunkIdsOf, nonZeroIds } from "./block-map";
import { isIntact } from "./capture";
import { damageOfPoints, recordFindings, settleDamagedStates, type DamageKind, type DiskDamage, type PointDisk } from "./damage";
import { readBack } from "./read-back";
import { intactChunk } from "./manifests";
import { MiB, RateLimiter } from "./rate-limit";
import { batches } from "../catalog/batch";
import { allItems } from "../catalog/items";
import { pointsNewestFirst } from "../catalog/points";
import { manifestChunksByIds, pointDisksOf } from "../catalog/manifests";

export interface VerifyResult {
  item: string | null;
  points: VerifyPoints;
  pointsChecked: number;
  /** Distinct manifest chunks and blocks read back (a block many points share is read once). */
  chunksChecked: number;
  blocksChecked: number;
  bytesChecked: number;
  /** Damaged blocks (and manifest chunks) found by this run. */
  damagedBlocks: number;
  /** The checked points that rely on damage on record, newest first per item: they cannot be restored. */
  damaged: Array<{ item: string; point: string; capturedAt: string; latest: boolean; disks: DiskDamage[] }>;
  /** What was found, block by block (the first 100). */
  findings: Array<{ id: string; kind: DamageKind; reason: string }>;
  /** Why the run stopped before reading everything, if it did (its findings so far are recorded). */
  stopped: string | null;
}

const READ = "Read back blocks";
const RECORD = "Record damage";
const FINDINGS_SHOWN = 100;
const CANCEL_POLL_MS = 1000;

/**
 * Verify (a scrub): read back every block the chosen points rely on, each distinct block once, in the
 * store's fastest order, and check it against its id (SHA-256); check each manifest chunk against its id
 * too. Reads run beside replication, without the vault lock, optionally throttled; what looks damaged is
 * read once more under the lock (garbage collection may have moved it meanwhile) before it is recorded.
 * A Protected item whose latest point is damaged then needs a resync. Cancel stops the reads where they are.
 */
export async function verify(vault: Vault, request: VerifyRequest, options: { signal?: AbortSignal } = {}): Promise<JobView> {
  const items = request.item ? [await itemRow(vault, request.item)] : await allItems(vault.db);
  const job = await Job.start(vault.db, vault.clock, "Verify", request.item ?? "vault", [READ, RECORD]);
  const stop = new AbortController();
  const abort = () => stop.abort();
  options.signal?.addEventListener("abort", abort);
  // A cancel request (from any process) stops the reads within a second, throttled or not.
  const cancel = setInterval(
    () =>
      void job.cancelRequested().then(
        (asked) => asked && stop.abort(),
        () => undefined,
      ),
    CANCEL_POLL_MS,
  );
  try {
    const chosen = await chosenPoints(vault, items, request.points);
    const read = await job.step(READ, (task) => readChosen(vault, chosen.disks, request, task, stop));
    // What a stopped run found is real damage, and recorded; only a whole run may forget damage.
    await job.step(RECORD, () => vault.lock.run(() => record(vault, read, chosen.disks, wholeVault(request) && !stop.signal.aborted)));
    const stopped = stop.signal.aborted ? (options.signal?.aborted ? "the engine was closed" : "cancelled") : null;
    await job.finish(stopped ? "Cancelled" : "Succeeded", await summary(vault, request, chosen, read, stopped));
  } catch (error) {
    await job.fail(error);
  } finally {
    clearInterval(cancel);
    options.signal?.removeEventListener("abort", abort);
  }
  return await job.view();
}

/** Every point of every item: the scrub that may forget damage no point relies on any more. */
const wholeVault = (request: VerifyRequest) => !request.item && request.points === "all";

interface Chosen {
  points: Array<{ item: ItemRow; id: string; capturedAt: number; latest: boolean }>;
  disks: PointDisk[];
}

async function chosenPoints(vault: Vault, items: ItemRow[], which: VerifyPoints): Promise<Chosen> {
  const chosen: Chosen = { points: [], disks: [] };
  for (const item of items) {
    const rows = await pointsNewestFirst(vault.db, item.id);
    for (const [n, row] of (which === "latest" ? rows.slice(0, 1) : rows).entries())
      chosen.points.push({ item, id: row.id, capturedAt: row.captured_at, latest: n === 0 });
  }
  chosen.disks.push(
    ...(await pointDisksOf(
      vault.db,
      chosen.points.map((p) => p.id),
    )),
  );
  return chosen;
}

interface ReadOutcome {
  chunks: number;
  /** Every element read back: the chunk ids and block ids. */
  read: Set<string>;
  checked: number;
  bytes: number;
  damaged: Map<string, { kind: DamageKind; reason: string }>;
  /** Ids not read (stopped early). */
  unchecked: Set<string>;
}

/** The manifest chunks of the chosen disks (each once, hash checked), then every block they name (each once). */
async function readChosen(vault: Vault, disks: PointDisk[], request: VerifyRequest, task: Task, stop: AbortController): Promise<ReadOutcome> {
  const chunkIds = [...new Set(disks.flatMap((d) => chunkIdsOf(d.chunks)))];
  const damaged: ReadOutcome["damaged"] = new Map();
  const blocks = new Set<string>();
  // A batch at a time: a vault-wide scrub holds only one batch of chunks in memory.
  for (const wanted of batches(chunkIds)) {
    const rows = new Map((await manifestChunksByIds(vault.db, wanted)).map((r) => [r.id, r.data]));
    for (const id of wanted) {
      const stored = rows.get(id);
      const data = stored && intactChunk(vault.dataKey, id, stored);
      if (!stored) damaged.set(id, { kind: "chunk", reason: `manifest chunk ${id} is missing from the catalog` });
      else if (!data) damaged.set(id, { kind: "chunk", reason: `manifest chunk ${id} fails authentication or does not match its id (SHA-256)` });
      else for (const block of nonZeroIds(data)) blocks.add(block);
    }
  }
  const total = blocks.size;
  const limiter = request.rateLimitMiBps ? new RateLimiter(request.rateLimitMiBps * MiB) : undefined;
  const result = await readBack(vault.store, [...blocks], {
    limiter,
    signal: stop.signal,
    onProgress: async (checked, bytes, found) => {
      await task.progress(total ? checked / total : 1, `${checked} of ${total} blocks, ${Math.round(bytes / MiB)} MiB read, ${damaged.size + found} damaged`);
    },
  });
  for (const [id, reason] of result.damaged) damaged.set(id, { kind: "block", reason });
  for (const id of chunkIds) blocks.add(id);
  return { chunks: chunkIds.length, read: blocks, checked: result.checked, bytes: result.bytes, damaged, unchecked: new Set(result.unchecked) };
}

/** Under the lock: read what looked damaged once more, record the findings, and ask for a resync where the latest point is damaged. */
async function record(vault: Vault, read: ReadOutcome, checked: PointDisk[], complete: boolean): Promise<void> {
  for (const [id, { kind }] of [...read.damaged]) if (kind === "block" && (await isIntact(vault.store, id))) read.damaged.delete(id);
  const intact = (id: string) => read.read.has(id) && !read.unchecked.has(id) && !read.damaged.has(id);
  await recordFindings(vault, { damaged: read.damaged, intact, live: complete ? read.read : undefined }, checked);
  await settleDamagedStates(vault);
}

async function summary(vault: Vault, request: VerifyRequest, chosen: Chosen, read: ReadOutcome, stopped: string | null): Promise<VerifyResult> {
  const damage = await damageOfPoints(
    vault.db,
    chosen.points.map((p) => p.id),
  );
  return {
    item: request.item ?? null,
    points: request.points,
    pointsChecked: chosen.points.length,
    chunksChecked: read.chunks,
    blocksChecked: read.checked,
    bytesChecked: read.bytes,
    damagedBlocks: read.damaged.size,
    damaged: chosen.points
      .filter((p) => damage.has(p.id))
      .map((p) => ({ item: p.item.name, point: p.id, capturedAt: new Date(p.capturedAt).toISOString(), latest: p.latest, disks: damage.get(p.id)! })),
    findings: [...read.damaged].slice(0, FINDINGS_SHOWN).map(([id, f]) => ({ id, ...f })),
    stopped,
  };
}

/** Verifies the scheduler started in this process: at most one per vault, stopped when the engine closes. */
const background = new WeakMap<Vault, { stop: AbortController; done: Promise<unknown> }>();

export const verifyRunning = (vault: Vault) => background.has(vault);

/** Start a verify that runs on by itself; resolves with its job's id as soon as the job exists. */
export async function verifyInBackground(vault: Vault, request: VerifyRequest): Promise<string | undefined> {
  const stop = new AbortController();
  const { started, done } = whenJobStarts(() => verify(vault, request, { signal: stop.signal }));
  const settled = done.catch(() => undefined).finally(() => background.delete(vault));
  background.set(vault, { stop, done: settled });
  return started;
}

/** Stop this process's background verify of the vault, if one runs, and wait for it to end. */
export async function stopBackgroundVerify(vault: Vault): Promise<void> {
  const running = background.get(vault);
  if (!running) return;
  running.stop.abort();
  await running.done;
}
