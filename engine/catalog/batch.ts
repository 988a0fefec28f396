/**
 * SQLite binds at most 999 variables per statement in older builds (32766 in newer ones); PostgreSQL's
 * limit is 65535. Batches of this many variables fit every catalog we run on, with room for the rest of
 * the statement's parameters.
 */
export const MAX_BOUND_VARIABLES = 400;

/** Slices of `list`, each small enough to bind as one `in (...)` list or one multi-row insert. */
export function* batches<T>(list: readonly T[], columnsPerItem = 1): Generator<T[]> {
  const size = Math.max(1, Math.floor(MAX_BOUND_VARIABLES / columnsPerItem));
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

/** Run `query` over `list` in bound-variable-sized batches and concatenate the rows it returns. */
export async function inBatches<T, R>(list: readonly T[], query: (batch: T[]) => Promise<R[]>, columnsPerItem = 1): Promise<R[]> {
  const rows: R[] = [];
  for (const batch of batches(list, columnsPerItem)) rows.push(...(await query(batch)));
  return rows;
}
