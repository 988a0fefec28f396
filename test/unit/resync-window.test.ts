// inWindow reads the local time of day: each moment here is built in local time, so the test holds in
// any time zone. Windows start inclusive and end exclusive, on whole minutes.
import { strict as assert } from "node:assert";
import { inWindow } from "../../engine/replication/resync-window";

/** For each local time "HH:MM" or "HH:MM:SS" of one day, whether it lies in the window. */
function assertWindow(window: { start: string; end: string }, expected: Record<string, boolean>) {
  const actual = Object.fromEntries(
    Object.keys(expected).map((time) => {
      const [hours, minutes, seconds = 0] = time.split(":").map(Number);
      return [time, inWindow(new Date(2026, 2, 10, hours, minutes, seconds).getTime(), window)];
    }),
  );
  assert.deepEqual(actual, expected, `${window.start}–${window.end}`);
}

describe("inWindow (resync windows)", () => {
  it("holds a window within one day from its start up to, not including, its end", () => {
    assertWindow({ start: "08:00", end: "18:00" }, { "07:59:59": false, "08:00": true, "12:30": true, "17:59:59": true, "18:00": false, "23:00": false });
  });

  it("runs a window that starts later than it ends past midnight (the default 18:00–08:00)", () => {
    assertWindow(
      { start: "18:00", end: "08:00" },
      { "17:59": false, "18:00": true, "23:59": true, "00:00": true, "07:59": true, "08:00": false, "12:00": false },
    );
  });

  it("reads minutes as well as hours", () => {
    assertWindow({ start: "22:45", end: "23:15" }, { "22:44": false, "22:45": true, "23:14": true, "23:15": false });
    assertWindow({ start: "23:50", end: "00:10" }, { "23:49": false, "23:50": true, "00:05": true, "00:10": false });
  });
});
