import type { Hooks } from "../../schema";
import { runHook } from "./hooks";
import type { UndoStep, WindowJournal } from "./window-journal";

export interface Participant {
  item: string;
  hooks: Hooks;
  disks: string[];
}

/**
 * Hold every participant still while `capture` reads their disks, so all disks of a machine (and of a
 * replication group) are read as of one instant. App-consistent captures quiesce the applications first
 * (like VSS), then pause. Whatever was started is undone in reverse order, even when capture fails.
 * With a journal, each undo is on disk before the hook it undoes runs, so a crash inside the window
 * leaves the way back for whoever comes next (see window-journal.ts).
 */
export async function withConsistentWindow<T>(
  participants: Participant[],
  appConsistent: boolean,
  capture: () => Promise<T>,
  journal?: WindowJournal,
): Promise<T> {
  const undo: UndoStep[] = [];
  const window = journal?.open(participants.map((p) => p.item));
  const env = (p: Participant) => ({ LIFEBOAT_ITEM: p.item, LIFEBOAT_DISKS: p.disks.join(":") });
  const hold = async (p: Participant, label: string, command: string, undoLabel: string, undoCommand: string) => {
    const step: UndoStep = { item: p.item, label: undoLabel, command: undoCommand, env: env(p) };
    await window?.willUndo(step);
    await runHook(`${p.item} ${label}`, command, step.env);
    undo.push(step);
  };
  try {
    if (appConsistent) {
      for (const p of participants) if (p.hooks.quiesce && p.hooks.unquiesce) await hold(p, "quiesce", p.hooks.quiesce, "unquiesce", p.hooks.unquiesce);
    }
    for (const p of participants) if (p.hooks.pause && p.hooks.resume) await hold(p, "pause", p.hooks.pause, "resume", p.hooks.resume);
    return await capture();
  } finally {
    // A failing hook or journal write must not keep the next undo from running.
    const failures: unknown[] = [];
    for (const step of undo.reverse()) {
      await runHook(`${step.item} ${step.label}`, step.command, step.env).catch((e) => failures.push(e));
      await window?.undone(step).catch((e) => failures.push(e));
    }
    await window?.close().catch((e) => failures.push(e));
    // biome-ignore lint/correctness/noUnsafeFinally: an undo that failed is the error to report (a machine may still be paused), even over the capture's own
    if (failures.length) throw failures[0];
  }
}
