import { promises as fs } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { errorMessage } from "../errors";
import { VaultLock } from "../lock";
import { ownerState, ownerText, thisProcess, type ProcessOwner } from "../process/owner";
import { makePrivateDir, syncDir, writePrivateFile } from "../private-files";
import { runHook } from "./hooks";
import { unlessMissing } from "../io/exists";

/** A hook that undoes what an earlier hook did (resume after pause, unquiesce after quiesce). */
export interface UndoStep {
  item: string;
  /** "resume" or "unquiesce". */
  label: string;
  command: string;
  env: Record<string, string>;
}

/** One consistency window on disk: who holds it and what must be undone if that process dies inside it. */
export interface WindowRecord {
  id: string;
  owner: ProcessOwner;
  openedAt: number;
  items: string[];
  /** In the order their hooks were started; undone in reverse. */
  undo: UndoStep[];
  /** Set once someone else closed it after its owner died: kept until that is reported. */
  closed?: { at: number; by: ProcessOwner; results: Array<{ item: string; label: string; error: string | null }> };
}

const SUFFIX = ".window.json";

/**
 * Open consistency windows, one small file each, written durably (fsynced file and directory) before the
 * pause or quiesce hook runs and removed once everything is undone. A process killed inside a window
 * leaves its file behind; whoever opens the vault (or starts the agent) next runs its undo hooks.
 */
export class WindowJournal {
  private lock: VaultLock | undefined;

  constructor(readonly dir: string) {}

  /** A window about to run its hooks; nothing is written until the first hook is due. */
  open(items: string[]): OpenWindow {
    return new OpenWindow(this, {
      id: `win-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`,
      owner: thisProcess(),
      openedAt: Date.now(),
      items,
      undo: [],
    });
  }

  async write(record: WindowRecord): Promise<void> {
    await makePrivateDir(this.dir);
    await writePrivateFile(this.file(record.id), JSON.stringify(record) + "\n");
  }

  async forget(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
    await syncDir(this.dir).catch(() => undefined);
  }

  async records(): Promise<WindowRecord[]> {
    const names = (await unlessMissing(fs.readdir(this.dir))) ?? [];
    const out: WindowRecord[] = [];
    for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
      const text = await unlessMissing(fs.readFile(path.join(this.dir, name), "utf8"));
      if (text) out.push(JSON.parse(text) as WindowRecord);
    }
    return out;
  }

  /** Whether a window was left open by a process that died (cheap: for a check on every scheduler pass). */
  async hasLeftOpen(): Promise<boolean> {
    return (await this.records()).some((r) => r.closed !== undefined || ownerState(r.owner) === "gone");
  }

  /**
   * Close every window whose owner died inside it: its undo hooks run in reverse order of what was done
   * (resume first, then unquiesce, as the window itself would have). Each stays on disk, marked closed,
   * until `forget` (once its report is delivered), so a report is never lost. Answers the windows closed
   * now and earlier ones not yet reported. One closer at a time: two processes opening the vault at once
   * would otherwise resume a machine twice.
   */
  async closeLeftOpen(): Promise<WindowRecord[]> {
    if (!(await this.hasLeftOpen())) return [];
    this.lock ??= new VaultLock(path.join(this.dir, "closer.lock"));
    return this.lock.run(async () => {
      const out: WindowRecord[] = [];
      for (const record of await this.records()) {
        if (record.closed) out.push(record);
        else if (ownerState(record.owner) === "gone") {
          const results = [];
          for (const step of [...record.undo].reverse()) {
            const error = await runHook(`${step.item} ${step.label}`, step.command, step.env).then(() => null, errorMessage);
            results.push({ item: step.item, label: step.label, error });
          }
          const closed: WindowRecord = { ...record, closed: { at: Date.now(), by: thisProcess(), results } };
          await this.write(closed);
          out.push(closed);
        }
      }
      return out;
    });
  }

  /** Windows closed after a crash whose report has not been delivered yet. */
  async unreported(): Promise<WindowRecord[]> {
    return (await this.records()).filter((r) => r.closed !== undefined);
  }

  close(): void {
    this.lock?.close();
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}${SUFFIX}`);
  }
}

/** A window being held by this process: each undo is on disk before the hook it undoes runs. */
export class OpenWindow {
  private written = false;

  constructor(
    private readonly journal: WindowJournal,
    private readonly record: WindowRecord,
  ) {}

  /** Before a pause or quiesce hook: a crash during or after it leaves the way back on disk. */
  async willUndo(step: UndoStep): Promise<void> {
    this.record.undo.push(step);
    this.written = true;
    await this.journal.write(this.record);
  }

  /** After an undo hook ran (whatever its outcome). */
  async undone(step: UndoStep): Promise<void> {
    this.record.undo = this.record.undo.filter((s) => s !== step);
    if (this.record.undo.length) await this.journal.write(this.record);
    else await this.close();
  }

  /** The window is over: nothing of it is left to undo (a hook that failed to pause is not resumed). */
  async close(): Promise<void> {
    this.record.undo = [];
    if (this.written) await this.journal.forget(this.record.id);
    this.written = false;
  }
}

/** The machines a closed window undid something for, each with the line for its history. */
export function closedWindowReports(record: WindowRecord): Array<{ item: string; message: string }> {
  return [...new Set(record.closed!.results.map((r) => r.item))].map((item) => ({ item, message: closedWindowText(record, item) }));
}

/** What the item's history says about a window closed after its owner died. */
export function closedWindowText(record: WindowRecord, item: string): string {
  const steps = record.closed!.results.filter((r) => r.item === item);
  const done = steps.length
    ? steps.map((s) => (s.error ? `${s.label} hook failed (${s.error})` : `${s.label} hook ran`)).join(", then ")
    : "nothing was left to undo";
  return `a consistency window opened at ${new Date(record.openedAt).toISOString()} by ${ownerText(record.owner)}, which died inside it, was closed after the crash: ${done}`;
}
