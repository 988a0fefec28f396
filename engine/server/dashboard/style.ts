/** The dashboard's style sheet: system fonts only (no web fonts, nothing fetched from elsewhere). */
export const APP_CSS = `
:root {
  --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #647085; --line: #dfe3ea;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --accent: #2b6cb0; --app: #2f855a; --crash: #4a5b78;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171d; --card: #1c2029; --fg: #e3e7ee; --muted: #97a1b3; --line: #2e3442; --accent: #63a4e8; --crash: #a3b2cc; --app: #5fc38a; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; padding: 10px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
.spacer { flex: 1; }
main, #login { max-width: 1200px; margin: 0 auto; padding: 16px 24px 40px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
h2 { font-size: 15px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.section-head { display: flex; justify-content: space-between; align-items: baseline; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
code { font: 12px ui-monospace, monospace; }
button, select, input { font: inherit; }
#login label { display: block; margin: 12px 0; }
#login input { width: 100%; max-width: 480px; padding: 6px 8px; margin-top: 4px; }

table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td .reason { display: block; color: var(--muted); font-size: 12px; max-width: 360px; }

.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); }
.badge.warn { color: var(--warn); }
.badge.bad { color: var(--bad); }
.badge.info { color: var(--accent); }
.badge.idle { color: var(--muted); }

.item-charts { display: grid; grid-template-columns: minmax(0, 1fr); gap: 4px; padding: 10px 0 16px; border-bottom: 1px solid var(--line); }
.item-charts:last-child { border-bottom: 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 10px; fill: var(--muted); }
svg.chart .axis { stroke: var(--line); }
svg.chart .rpo-line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.chart .rpo-sample { fill: var(--accent); }
svg.chart .threshold { stroke: var(--bad); stroke-dasharray: 4 3; }
svg.chart text.threshold-label { fill: var(--bad); }
svg.chart .point.crash { fill: var(--crash); }
svg.chart .point.app { fill: var(--app); }
.legend { font-size: 12px; color: var(--muted); display: flex; gap: 14px; }
.swatch { display: inline-block; width: 9px; height: 9px; margin-right: 4px; vertical-align: middle; }
.swatch.crash { background: var(--crash); border-radius: 50%; }
.swatch.app { background: var(--app); transform: rotate(45deg); }

.job { border-bottom: 1px solid var(--line); padding: 6px 0; }
.job summary { display: grid; grid-template-columns: 200px 140px 110px 1fr 170px; gap: 10px; align-items: center; cursor: pointer; }
.tasks { list-style: none; margin: 6px 0 0 18px; padding: 0; }
.tasks ul { list-style: none; margin: 0; padding: 0; }
.task { display: grid; grid-template-columns: 260px 110px 160px 1fr; gap: 10px; align-items: center; padding: 2px 0; }
.task .detail { color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.progress { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; min-width: 80px; }
.progress .bar { height: 100%; background: var(--accent); }
.progress.Succeeded .bar { background: var(--ok); }
.progress.Failed .bar, .progress.Cancelled .bar { background: var(--bad); }
.progress.Suspended .bar { background: var(--warn); }
`;
