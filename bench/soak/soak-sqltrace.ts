/**
 * Preloaded into the profiled daemon (`node --require dist/bench/soak-sqltrace.js`): times every SQLite
 * statement better-sqlite3 runs on the calling thread, by its SQL text, and writes the totals to
 * $SOAK_SQL_TRACE_FILE when the process exits. SIGUSR2 starts the count afresh (the suite sends it when
 * the measured window begins). A CPU profile cannot say which statements its SQLite time went to: the
 * query builder's awaits cut the stack between the caller and the statement.
 */
import { writeFileSync } from "node:fs";
import Database from "better-sqlite3";

export interface SqlTrace {
  /** Wall clock (ms since the epoch) of the last reset, and of the write. */
  from: number;
  to: number;
  statements: Array<{ sql: string; calls: number; ms: number }>;
}

type Totals = Map<string, { calls: number; ns: bigint }>;
let totals: Totals = new Map();
let from = Date.now();

/** Lists of placeholders vary with their length; one statement shape is one row. */
const shape = (sql: string) =>
  sql
    .replace(/\(\s*\?(\s*,\s*\?)*\s*\)/g, "(?, ...)")
    .replace(/\s+/g, " ")
    .trim();

function timed<A extends unknown[], R>(original: (...args: A) => R, sqlOf: (self: unknown, args: A) => string) {
  return function (this: unknown, ...args: A): R {
    const start = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const key = shape(sqlOf(this, args));
      const entry = totals.get(key) ?? { calls: 0, ns: 0n };
      entry.calls++;
      entry.ns += process.hrtime.bigint() - start;
      totals.set(key, entry);
    }
  };
}

function install(file: string): void {
  const probe = new Database(":memory:");
  const statement = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ["run", "get", "all"]) statement[method] = timed(statement[method], (self) => (self as { source: string }).source);
  const db = Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  db.exec = timed(db.exec, (_self, args) => String(args[0]));
  db.prepare = timed(db.prepare, (_self, args) => `prepare: ${String(args[0])}`);
  process.on("SIGUSR2", () => {
    totals = new Map();
    from = Date.now();
  });
  process.on("exit", () => {
    const statements = [...totals].map(([sql, t]) => ({ sql, calls: t.calls, ms: Number(t.ns) / 1e6 })).sort((a, b) => b.ms - a.ms);
    const trace: SqlTrace = { from, to: Date.now(), statements };
    writeFileSync(file, JSON.stringify(trace));
  });
}

if (process.env.SOAK_SQL_TRACE_FILE) install(process.env.SOAK_SQL_TRACE_FILE);
