// The report page's stylesheet, inline in the page (html-report.ts: no external
// resource). Its classes are the ones html-report-sections.ts, html-report-problem.ts
// and html-ladder.ts write.
export const REPORT_STYLE = `
:root { color-scheme: light; --bad: #b3261e; --good: #1e6b34; --q: #1f5fa8; --a: #1e7a52; --muted: #666; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 16px 24px 48px; max-width: 1600px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; font-weight: 600; }
code, pre, .key, .label, .iface, td { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.summary { font-size: 16px; font-weight: 600; margin: 4px 0 10px; }
.bad { color: var(--bad); }
.good { color: var(--good); }
dl.facts, dl.where { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code.command { background: #f3f3f3; padding: 2px 6px; border-radius: 3px; white-space: pre-wrap; overflow-wrap: anywhere; }
nav ol.contents { margin: 8px 0 0; padding-left: 22px; }
nav a { color: inherit; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.status { display: inline-block; min-width: 7.5em; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; font-weight: 700; }
.status.lost, .status.unanswered, .status.error { color: var(--bad); }
.status.inconclusive { color: #8a5a00; }
article.exchange { border: 1px solid #ddd; border-left: 5px solid var(--bad); border-radius: 4px; padding: 10px 14px; margin: 14px 0; page-break-inside: avoid; }
article.exchange.inconclusive { border-left-color: #d39b00; }
.words { margin: 2px 0 6px; }
.missing-on .iface { color: var(--bad); }
.cause { background: #fff4f2; border: 1px solid #f1c8c2; border-radius: 4px; padding: 6px 10px; margin: 8px 0; }
.cause p { margin: 2px 0; }
.cause .why { font-weight: 700; color: var(--bad); }
.cause .at { color: var(--muted); }
.cause ul.evidence { margin: 4px 0 0; padding-left: 20px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.cause .source { font-weight: 700; }
.cause .k { color: var(--muted); }
.ladder-box { overflow-x: auto; margin: 8px 0 4px; }
svg.ladder { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; display: block; }
svg.ladder text { font-size: 11px; fill: #1b1b1b; }
svg.ladder .column text { text-anchor: middle; }
svg.ladder text.where { font-size: 10px; fill: var(--muted); }
svg.ladder text.name { font-weight: 600; }
svg.ladder line.life { stroke: #c8c8c8; stroke-width: 1; }
svg.ladder line.hop { stroke-width: 2; }
svg.ladder .question { stroke: var(--q); fill: var(--q); }
svg.ladder .answer { stroke: var(--a); fill: var(--a); }
svg.ladder text.stage { stroke: none; text-anchor: middle; font-size: 10px; }
svg.ladder text.stage.question { fill: var(--q); }
svg.ladder text.stage.answer { fill: var(--a); }
svg.ladder line.turnaround { stroke: #aaa; stroke-dasharray: 2 4; }
svg.ladder line.gap { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.ladder circle.last-seen { fill: var(--bad); stroke: none; }
svg.ladder text.missing { fill: var(--bad); font-size: 20px; font-weight: 700; text-anchor: middle; }
svg.ladder text.nowhere { fill: var(--bad); font-size: 15px; font-weight: 700; text-anchor: middle; }
svg.ladder text.note { fill: #444; }
svg.ladder text.note.stop { fill: var(--bad); font-weight: 600; }
details { margin-top: 4px; }
details pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 10px; text-align: left; vertical-align: top; }
th { font-weight: 600; color: #444; font-size: 13px; }
td.n { text-align: right; }
td.drops { color: var(--bad); font-weight: 700; }
tr.lost td, tr.unanswered td, tr.error td { color: var(--bad); }
@media print { body { max-width: none; padding: 0; } .ladder-box { overflow: visible; } details { display: none; } }
`
  .trim()
  .replace(/\n/g, ' ');
