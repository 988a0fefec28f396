import type { Hooks } from "../../schema";
import { runHook } from "./hooks";

export interface Participant {
  item: string;
  hooks: Hooks;
  disks: string[];
}

/**
 * Hold every participant still while `capture` reads their disks, so all disks of a machine (and of a
 * replication group) are read as of one instant. App-consistent captures quiesce the applications first
 * (like VSS), then pause. Whatever was started is undone in reverse order, even when capture fails.
 */
export async function withConsistentWindow<T>(participants: Participant[], appConsistent: boolean, capture: () => Promise<T>): Promise<T> {
  const undo: Array<() => Promise<void>> = [];
  const env = (p: Participant) => ({ LIFEBOAT_ITEM: p.item, LIFEBOAT_DISKS: p.disks.join(":") });
  try {
    if (appConsistent) {
      for (const p of participants) {
        if (!p.hooks.quiesce || !p.hooks.unquiesce) continue;
        await runHook(`${p.item} quiesce`, p.hooks.quiesce, env(p));
        const unquiesce = p.hooks.unquiesce;
        undo.push(() => runHook(`${p.item} unquiesce`, unquiesce, env(p)));
      }
    }
    for (const p of participants) {
      if (!p.hooks.pause || !p.hooks.resume) continue;
      await runHook(`${p.item} pause`, p.hooks.pause, env(p));
      const resume = p.hooks.resume;
      undo.push(() => runHook(`${p.item} resume`, resume, env(p)));
    }
    return await capture();
  } finally {
    const failures: unknown[] = [];
    for (const step of undo.reverse()) await step().catch((e) => failures.push(e));
    if (failures.length) throw failures[0];
  }
}
