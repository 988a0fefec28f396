import { z } from "zod";
import { fsPath, Name } from "./common";
import { ErrorCode } from "./errors";

/** Base64 of binary fields (block indexes, ids and change hashes travel packed, not as JSON arrays). */
const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64");
const BlockId = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 in lowercase hex");
const Count = z.number().int().min(0);

/** An agent introduces itself with the vault's registration key, shown once when the key was issued. */
export const AgentRegistration = z.strictObject({
  host: Name,
  /** The site the host belongs to; the host is added to it when new. Optional when the host is known. */
  site: Name.optional(),
  registrationKey: z.string().min(1, "the vault's registration key is required"),
});
export type AgentRegistration = z.infer<typeof AgentRegistration>;

export const AgentHeartbeat = z.strictObject({
  /** Items the agent is working on: their lease is extended. */
  busy: z.array(Name).default([]),
  /** False for the calls an agent makes while it works: nothing new is handed out (and leased) then. */
  takeWork: z.boolean().default(true),
  /** The agent's first call since it started: what was leased to it before (work a killed agent never finished) is due again at once. */
  fresh: z.boolean().default(false),
  /** Consistency windows a killed agent left open, closed by the agent when it started again: one line per machine for its history. */
  windowsClosed: z
    .array(z.strictObject({ item: Name, message: z.string().min(1).max(4096) }))
    .max(1000)
    .default([]),
});

export const BlockLookup = z.strictObject({ ids: z.array(BlockId).max(65_536) });

/** A block an agent wrote into a pack of the shared store. */
export const AgentBlock = z.strictObject({
  id: BlockId,
  pack: z.string().regex(/^packs\/[0-9a-f]{2}\/[0-9a-f]{32}\.pack$/, "must name a pack of the store (packs/xx/<32 hex>.pack)"),
  offset: Count,
  length: z.number().int().min(1),
});

/**
 * What changed on one disk since the state the agent read (baseVersion): the blocks whose id or change
 * hash differ, as parallel packed arrays: indexes (uint32 LE), ids (32 bytes each; all zero = a zero
 * block) and change hashes (uint64 LE).
 */
export const DiskChanges = z.strictObject({
  disk: Name,
  baseVersion: Count,
  size: Count,
  indexes: Base64,
  ids: Base64,
  hashes: Base64,
  /** A disk read through QEMU's dirty bitmap: the checkpoint the new state stands at, and why the read was whole. */
  tracking: z.strictObject({ checkpoint: z.string().max(31).nullable(), reset: z.string().max(4096).nullable() }).optional(),
});
export type DiskChanges = z.infer<typeof DiskChanges>;

export const AgentItemReport = z.strictObject({
  item: Name,
  disks: z.array(DiskChanges).min(1),
  bytesRead: Count,
  blocksChanged: Count,
  bytesStored: Count,
  /** Resync: stored copies found damaged or missing and written again. */
  repaired: z.array(BlockId).default([]),
});

export const AgentWorkMode = z.enum(["initial", "delta", "resync"]);
export type AgentWorkMode = z.infer<typeof AgentWorkMode>;

/** One consistency window read by an agent: a recovery point per item once the engine has checked it. */
export const AgentWindowReport = z.strictObject({
  mode: AgentWorkMode,
  /** The capture instant on the engine's clock (the agent corrects its own by the heartbeat's). */
  capturedAt: z.number().int().positive(),
  appConsistent: z.boolean(),
  durationMs: Count,
  items: z.array(AgentItemReport).min(1),
  blocks: z.array(AgentBlock).default([]),
});
export type AgentWindowReport = z.infer<typeof AgentWindowReport>;

export const AgentFailureReport = z.strictObject({
  mode: AgentWorkMode,
  items: z.array(Name).min(1),
  error: z.strictObject({ code: ErrorCode, message: z.string().max(4096), recoverable: z.boolean() }),
});
export type AgentFailureReport = z.infer<typeof AgentFailureReport>;

/** Moving a machine to another host of its site (e.g. after a live migration); disk paths may change. */
export const ItemMove = z.strictObject({
  host: Name,
  diskPaths: z.record(Name, fsPath()).optional(),
});
export type ItemMove = z.infer<typeof ItemMove>;
