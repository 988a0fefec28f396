import type { ResyncWindow } from "../../schema";

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether a moment falls in a daily local-time window; a window may run past midnight (18:00–08:00). */
export function inWindow(at: number, window: ResyncWindow): boolean {
  const date = new Date(at);
  const now = date.getHours() * 60 + date.getMinutes();
  const start = minutes(window.start);
  const end = minutes(window.end);
  return start <= end ? now >= start && now < end : now >= start || now < end;
}
