/**
 * Where the soak writer's writes go: straight into an image file (a host's writes through the page cache),
 * or through QEMU with one long-running `qemu-io` per disk on the disk's writable NBD export (a guest's
 * writes: the only ones QEMU's dirty bitmap sees).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { readProcess } from "./soak-proc";

export interface DiskSink {
  /** Write `data` at `offset`; resolves when the write is done (qemu-io has acknowledged it). */
  write(data: Buffer, offset: number): Promise<void>;
  close(): Promise<void>;
}

export async function fileSink(file: string): Promise<DiskSink> {
  const handle = await fs.open(file, "r+");
  return {
    write: async (data, offset) => void (await handle.write(data, 0, data.length, offset)),
    close: () => handle.close(),
  };
}

/** What the qemu-io processes cost, read from /proc just before they are closed. */
export interface QemuIoFigures {
  processes: number;
  /** utime + stime of all of them over their lives, in seconds. */
  cpuSeconds: number;
  rssKiBSum: number;
  rssKiBMax: number;
}

/**
 * A `qemu-io -f raw URI` reading commands on stdin: each write is `write -P 0xNN OFFSET LENGTH` (one byte
 * value repeated: qemu-io has no command for given bytes), acknowledged by a `wrote N/N bytes` line.
 */
export class QemuIoSink implements DiskSink {
  private readonly waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private output = "";
  private readonly exited: Promise<void>;

  constructor(
    readonly uri: string,
    private readonly child: ChildProcess = spawn("qemu-io", ["-f", "raw", uri], { stdio: ["pipe", "pipe", "pipe"] }),
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => this.consume(chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => this.fail(new Error(`qemu-io on ${uri}: ${chunk.trim()}`)));
    void this.exited.then(() => this.fail(new Error(`qemu-io on ${uri} exited`)));
  }

  private consume(chunk: string): void {
    this.output += chunk;
    let newline: number;
    while ((newline = this.output.indexOf("\n")) >= 0) {
      const line = this.output.slice(0, newline).replace(/^(qemu-io> )+/, "");
      this.output = this.output.slice(newline + 1);
      if (/^wrote \d+\/\d+ bytes/.test(line)) this.waiting.shift()?.resolve();
      else if (/fail|error/i.test(line)) this.waiting.shift()?.reject(new Error(`qemu-io on ${this.uri}: ${line}`));
    }
  }

  private fail(error: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  write(data: Buffer, offset: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin!.write(`write -P 0x${(data[0] | 1).toString(16)} ${offset} ${data.length}\n`);
    });
  }

  async figures(): Promise<{ cpuSeconds: number; rssKiB: number }> {
    const reading = await readProcess(this.child.pid!);
    return { cpuSeconds: reading.cpuSeconds, rssKiB: reading.rssKiB };
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

export async function qemuIoFigures(sinks: QemuIoSink[]): Promise<QemuIoFigures> {
  const each = await Promise.all(sinks.map((s) => s.figures()));
  return {
    processes: each.length,
    cpuSeconds: each.reduce((sum, f) => sum + f.cpuSeconds, 0),
    rssKiBSum: each.reduce((sum, f) => sum + f.rssKiB, 0),
    rssKiBMax: Math.max(...each.map((f) => f.rssKiB)),
  };
}
