import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import { EngineError } from "./errors";

/**
 * Serializes vault mutations: inside a process with a promise chain, across processes (a daemon and
 * a CLI command) with an exclusive lock file. A lock left by a dead process on this host is taken over.
 */
export class VaultLock {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  run<T>(body: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
    const result = this.chain.then(async () => {
      await this.acquire(timeoutMs);
      try {
        return await body();
      } finally {
        await fs.rm(this.file, { force: true });
      }
    });
    this.chain = result.then(() => undefined, () => undefined);
    return result;
  }

  private async acquire(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (;;) {
      try {
        await fs.writeFile(this.file, me, { flag: "wx" });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = await fs.readFile(this.file, "utf8").then((t) => JSON.parse(t) as { pid: number; host: string }, () => undefined);
      if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
        await fs.rm(this.file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new EngineError("VaultBusy", `the vault is locked by process ${holder?.pid ?? "?"} on ${holder?.host ?? "?"}`, true);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
