import { createHash } from "node:crypto";

/** Block ids are SHA-256 digests: this many bytes (64 hex digits where they are strings). */
export const BLOCK_ID_BYTES = 32;

/** Content address of a block: SHA-256 of its raw bytes. Used on worker threads too (one call per block). */
export const blockId = (data: Uint8Array): Buffer => createHash("sha256").update(data).digest();
