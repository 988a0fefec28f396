import { xxh64 } from "@node-rs/xxhash";

/** Fast change detection; a collision (2^-64) is the only way a change is missed, as with rsync's checksums. */
export const changeHash = (data: Buffer): bigint => xxh64(data);

const ZEROS = Buffer.alloc(1024 * 1024);

/** All-zero blocks are never stored: materialize leaves them as holes. */
export function isZero(data: Buffer): boolean {
  return data.length <= ZEROS.length && data.equals(ZEROS.subarray(0, data.length));
}
