import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import Database from "better-sqlite3";
import { EngineError } from "./errors";
import { PRIVATE_FILE_MODE } from "./private-files";

const POLL_MS = 25;

/**
 * Serializes vault mutations: inside a process with a promise chain, across processes (a daemon and
 * CLI commands) with an exclusive SQLite transaction on a small lock database. That is an OS-level file
 * lock, so the kernel releases it when its holder dies: no stale lock to detect or take over. Who holds
 * it is written beside it, for the message of whoever waits.
 */
export class VaultLock {
  private chain: Promise<void> = Promise.resolve();
  private db: Database.Database | undefined;

  constructor(private readonly file: string) {}

  run<T>(body: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
    const result = this.chain.then(async () => {
      const db = await this.acquire(timeoutMs);
      try {
        return await body();
      } finally {
        db.exec("COMMIT");
      }
    });
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Run the body under the lock only if no other process holds it now (answers undefined then). For
   * work that may wait for the holder's next turn rather than keep a read-only command waiting.
   */
  async tryRun<T>(body: () => Promise<T>): Promise<{ value: T } | undefined> {
    let acquired = false;
    try {
      return await this.run(async () => {
        acquired = true;
        return { value: await body() };
      }, 0);
    } catch (error) {
      if (!acquired && error instanceof EngineError && error.code === "VaultBusy") return undefined;
      throw error;
    }
  }

  private async acquire(timeoutMs: number): Promise<Database.Database> {
    this.db ??= new Database(this.file, { timeout: 0 });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.db.exec("BEGIN EXCLUSIVE");
        await fs.writeFile(`${this.file}.holder`, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), {
          mode: PRIVATE_FILE_MODE,
        });
        return this.db;
      } catch (error) {
        if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      }
      if (Date.now() > deadline) {
        const holder = await fs
          .readFile(`${this.file}.holder`, "utf8")
          .then((t) => JSON.parse(t) as { pid: number; host: string })
          .catch(() => undefined);
        throw new EngineError("VaultBusy", `the vault is locked by process ${holder?.pid ?? "?"} on ${holder?.host ?? "?"}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
