// The report for the ticket (`--report FILE.html`, capture and replay): one
// self-contained HTML page, made from the stream of JSON-lines records (docs/json-lines.md:
// interface, stats, state, exchange, clock, summary), so it is the same for a live
// capture and a replay of its recording. It holds, in this order:
//
//   - the verdict summary, the command line that produced the report, the time span
//     of the exchanges and when the report was made;
//   - every problem exchange (lost, unanswered, error, inconclusive) in the order it was
//     judged: the verdict in words, where it was last seen and where it is missing, its
//     cause when one was found (`cause`: code, summary, the hop, the evidence), its
//     ladder drawn as SVG (html-ladder.ts) and the same exchange as text;
//   - the interfaces with their packets, drops and gaps;
//   - the clock offsets of the hosts (offsetMs ± uncertaintyMs against the reference);
//   - ok exchanges counted, and the first LIMITS.okRows of them listed.
//
// Bounds, so a capture of a long outage still makes a page a browser opens:
// the first LIMITS.ladders problem exchanges are drawn, the next LIMITS.listed are one
// row each, the rest are counted (the JSON lines list every one).
//
// No network resource: no script, no external stylesheet, font or image — the style is
// inline, and a Content-Security-Policy of `default-src 'none'` tells the browser to
// load nothing even if something slipped in. Every string that came from the records
// (labels, keys, DNS names, file names, evidence) and the command line is escaped
// (html-text.ts). The page is written by report-file.ts, once, at the end.
import type {
  ClockRecord,
  ExchangeRecord,
  ExchangeStatus,
  PacketView,
  SkippedRecord,
  SummaryRecord,
} from '../events/types.js';
import { parseTimestamp } from '../shared/timestamp-text.js';
import { formatExchange, offsetText, verdictWords } from './exchange-text.js';
import { ladderSvg } from './html-ladder.js';
import { escapeHtml, shellWord } from './html-text.js';
import { checkReportTarget, writeReportFile } from './report-file.js';

/** The `interface` record (docs/json-lines.md), as capture and replay write it. */
export interface InterfaceLine {
  type: 'interface';
  id: number;
  label: string;
  host?: string | null;
  netns?: string | null;
  name?: string;
  linktype?: string;
  /** the recording it was read from (replay) */
  file?: string;
}

/** The `stats` record (docs/json-lines.md): live every few seconds and `final` at the end; replay once, final. */
export interface StatsLine {
  type: 'stats';
  iface: string;
  received: number;
  dropped: number;
  /** packets hopscope got (capture) */
  captured?: number;
  final: boolean;
}

/** A capture's interface going away and coming back (or a recording stopping). */
export interface StateLine {
  type: 'state';
  iface?: string;
  state: string;
  reason?: string | null;
}

/** What the report reads; other records (packets, skipped lines) are passed over. */
export type ReportRecord =
  | InterfaceLine
  | StatsLine
  | StateLine
  | ExchangeRecord
  | ClockRecord
  | SummaryRecord
  | SkippedRecord
  | PacketView;

/** How much of a run the page holds (see the top of this file). */
export const REPORT_LIMITS = {
  /** problem exchanges drawn with their ladder */
  ladders: 200,
  /** problem exchanges after those, one table row each */
  listed: 2000,
  /** ok exchanges listed (all are counted) */
  okRows: 100,
} as const;

const PROBLEMS: readonly ExchangeStatus[] = ['lost', 'unanswered', 'error', 'inconclusive'];

/** A cause as docs/json-lines.md describes it, read defensively: the records may come from a file. */
interface Cause {
  code: string;
  summary: string;
  at: string | null;
  evidence: Array<Record<string, unknown>>;
}

function causeOf(ex: ExchangeRecord): Cause | null {
  if (!('cause' in ex)) return null;
  const c: unknown = ex.cause;
  if (typeof c !== 'object' || c === null) return null;
  const field = (name: string): unknown => (name in c ? (c as Record<string, unknown>)[name] : undefined);
  const code = field('code');
  const summary = field('summary');
  const at = field('at');
  const evidence = field('evidence');
  return {
    code: typeof code === 'string' ? code : 'unknown',
    summary: typeof summary === 'string' ? summary : '',
    at: typeof at === 'string' ? at : null,
    evidence: Array.isArray(evidence)
      ? evidence.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      : [],
  };
}

interface InterfaceRow {
  id: number;
  label: string;
  file: string | null;
  packets: number | null;
  received: number | null;
  dropped: number;
  /** state changes other than up, with their reason */
  gaps: string[];
}

interface ListedProblem {
  status: ExchangeStatus;
  kind: string;
  key: string;
  ts: string;
  words: string;
}

interface OkRow {
  kind: string;
  key: string;
  ts: string;
  rttMs: number | undefined;
}

export interface HtmlReportOptions {
  /** the command line that produced the report, program name first (shell-quoted on the page) */
  command: readonly string[];
}

/** Collects the records of one run and makes the page (pure: no file, no clock). */
export class HtmlReport {
  readonly #command: readonly string[];
  readonly #interfaces = new Map<string, InterfaceRow>();
  readonly #drawn: ExchangeRecord[] = [];
  readonly #listed: ListedProblem[] = [];
  #problemsOnlyCounted = 0;
  readonly #counted: Record<ExchangeStatus, number> = {
    ok: 0,
    lost: 0,
    unanswered: 0,
    error: 0,
    inconclusive: 0,
  };
  readonly #ok: OkRow[] = [];
  readonly #clocks = new Map<string, ClockRecord>();
  #summary: SummaryRecord | null = null;
  #first: string | null = null;
  #last: string | null = null;

  constructor(options: HtmlReportOptions) {
    this.#command = options.command;
  }

  /** For the correlator: whether a verdict of this status is wanted as a record (ok ones only while listed). */
  wants(status: ExchangeStatus): boolean {
    return status !== 'ok' || this.#ok.length < REPORT_LIMITS.okRows;
  }

  record(r: ReportRecord): void {
    switch (r.type) {
      case 'interface': {
        const row = this.#row(r.label);
        row.id = r.id;
        if (r.file !== undefined) row.file = r.file;
        break;
      }
      case 'stats': {
        // live stats come every few seconds; the last (final) one stands
        const row = this.#row(r.iface);
        row.packets = r.captured ?? r.received;
        row.received = r.captured !== undefined ? r.received : null;
        row.dropped = r.dropped;
        break;
      }
      case 'state':
        if (r.iface !== undefined && r.state !== 'up' && r.state !== 'stopped') {
          const gaps = this.#row(r.iface).gaps;
          if (gaps.length < 20) gaps.push(r.reason ? `${r.state}: ${r.reason}` : r.state);
        }
        break;
      case 'exchange':
        this.#exchange(r);
        break;
      case 'clock':
        this.#clocks.set(r.host, r);
        break;
      case 'summary':
        this.#summary = r;
        break;
      case 'skipped':
      case 'packet':
        break;
    }
  }

  #row(label: string): InterfaceRow {
    let row = this.#interfaces.get(label);
    if (row === undefined) {
      row = {
        id: this.#interfaces.size,
        label,
        file: null,
        packets: null,
        received: null,
        dropped: 0,
        gaps: [],
      };
      this.#interfaces.set(label, row);
    }
    return row;
  }

  #exchange(ex: ExchangeRecord): void {
    // (a record from elsewhere with a status the contract does not have is passed over)
    if (!Object.hasOwn(this.#counted, ex.status)) return;
    this.#counted[ex.status]++;
    if (this.#first === null || earlier(ex.ts, this.#first)) this.#first = ex.ts;
    if (this.#last === null || earlier(this.#last, ex.ts)) this.#last = ex.ts;
    if (ex.status === 'ok') {
      if (this.#ok.length < REPORT_LIMITS.okRows)
        this.#ok.push({ kind: ex.kind, key: ex.key, ts: ex.ts, rttMs: ex.rttMs });
      return;
    }
    if (this.#drawn.length < REPORT_LIMITS.ladders) this.#drawn.push(ex);
    else if (this.#listed.length < REPORT_LIMITS.listed)
      this.#listed.push({
        status: ex.status,
        kind: ex.kind,
        key: ex.key,
        ts: ex.ts,
        words: verdictWords(ex),
      });
    else this.#problemsOnlyCounted++;
  }

  /** The summary record, or — a run cut short before it — the counts of the records seen. */
  #counts(): SummaryRecord {
    if (this.#summary !== null) return this.#summary;
    const c = this.#counted;
    return {
      type: 'summary',
      exchanges: c.ok + c.lost + c.unanswered + c.error + c.inconclusive,
      ...c,
    };
  }

  /** The whole page; `madeAt` is printed as the time it was made. */
  html(madeAt: Date): string {
    const s = this.#counts();
    const problems = s.lost + s.unanswered + s.error + s.inconclusive;
    const verdict = PROBLEMS.map((st) => `${s[st]} ${st}`).join(', ') + `, ${s.ok} ok`;
    const title = `hopscope: ${problems > 0 ? `${problems} problem${problems === 1 ? '' : 's'}` : 'no problem'} in ${s.exchanges} exchange${s.exchanges === 1 ? '' : 's'}`;
    return [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(title)}</title>`,
      `<style>${STYLE}</style>`,
      '</head>',
      '<body>',
      '<header>',
      `<h1>${escapeHtml(title)}</h1>`,
      `<p class="summary ${problems > 0 ? 'bad' : 'good'}" id="summary">${s.exchanges} exchanges: ${escapeHtml(verdict)}</p>`,
      '<dl class="facts">',
      `<dt>command</dt><dd><code class="command">${escapeHtml(this.#command.map(shellWord).join(' '))}</code></dd>`,
      this.#first !== null && this.#last !== null
        ? `<dt>exchanges</dt><dd>${escapeHtml(utc(this.#first))} to ${escapeHtml(utc(this.#last))}</dd>`
        : '',
      `<dt>report made</dt><dd>${escapeHtml(madeAt.toISOString().replace('T', ' ').replace('Z', ' UTC'))}</dd>`,
      '</dl>',
      this.#contents(),
      '</header>',
      '<main>',
      this.#problemsSection(problems),
      this.#interfacesSection(),
      this.#clocksSection(),
      this.#okSection(s.ok),
      '</main>',
      '</body>',
      '</html>',
      '',
    ]
      .filter((line) => line !== '')
      .join('\n');
  }

  #contents(): string {
    if (this.#drawn.length === 0) return '';
    const items = this.#drawn.map(
      (ex, i) =>
        `<li><a href="#problem-${i + 1}"><span class="status ${escapeHtml(ex.status)}">${escapeHtml(ex.status.toUpperCase())}</span> ${escapeHtml(ex.kind)} ${escapeHtml(ex.key)}</a></li>`,
    );
    return `<nav><ol class="contents">${items.join('')}</ol></nav>`;
  }

  #problemsSection(problems: number): string {
    const out = ['<section id="problems">', '<h2>Problem exchanges</h2>'];
    if (problems === 0 && this.#drawn.length === 0) out.push('<p>None: every exchange was answered.</p>');
    this.#drawn.forEach((ex, i) => out.push(problemArticle(ex, i + 1)));
    if (this.#listed.length > 0) {
      out.push(
        `<h3>${this.#listed.length} more, not drawn (the first ${REPORT_LIMITS.ladders} are)</h3>`,
        '<table class="listed"><thead><tr><th>first seen</th><th>verdict</th><th>kind</th><th>exchange</th><th>where it broke</th></tr></thead><tbody>',
        ...this.#listed.map(
          (p) =>
            `<tr class="${escapeHtml(p.status)}"><td>${escapeHtml(utc(p.ts))}</td><td>${escapeHtml(p.status.toUpperCase())}</td><td>${escapeHtml(p.kind)}</td><td>${escapeHtml(p.key)}</td><td>${escapeHtml(p.words)}</td></tr>`,
        ),
        '</tbody></table>',
      );
    }
    if (this.#problemsOnlyCounted > 0)
      out.push(
        `<p class="more">…and ${this.#problemsOnlyCounted} more problem exchanges, only counted here (--json lists every one).</p>`,
      );
    out.push('</section>');
    return out.join('\n');
  }

  #interfacesSection(): string {
    const rows = [...this.#interfaces.values()].sort((a, b) => a.id - b.id);
    const withDrops = rows.filter((r) => r.dropped > 0);
    const anyReceived = rows.some((r) => r.received !== null);
    const anyFile = rows.some((r) => r.file !== null);
    const anyGaps = rows.some((r) => r.gaps.length > 0);
    const out = [
      '<section id="interfaces">',
      `<h2>Interfaces (${rows.length})</h2>`,
      withDrops.length > 0
        ? `<p class="bad">The capture dropped packets on ${withDrops.length} interface${withDrops.length === 1 ? '' : 's'}: verdicts that needed them in that time are inconclusive.</p>`
        : '',
      '<table class="interfaces"><thead><tr><th>interface</th><th>packets</th>' +
        (anyReceived ? '<th>received by the kernel</th>' : '') +
        '<th>dropped</th>' +
        (anyFile ? '<th>file</th>' : '') +
        (anyGaps ? '<th>capture gaps</th>' : '') +
        '</tr></thead><tbody>',
      ...rows.map(
        (r) =>
          `<tr data-iface="${escapeHtml(r.label)}"><td class="label">${escapeHtml(r.label)}</td>` +
          `<td class="n">${escapeHtml(String(r.packets ?? '–'))}</td>` +
          (anyReceived ? `<td class="n">${escapeHtml(String(r.received ?? '–'))}</td>` : '') +
          `<td class="n${r.dropped > 0 ? ' drops' : ''}">${escapeHtml(String(r.dropped))}</td>` +
          (anyFile ? `<td>${escapeHtml(r.file ?? '')}</td>` : '') +
          (anyGaps ? `<td>${escapeHtml(r.gaps.join('; '))}</td>` : '') +
          '</tr>',
      ),
      '</tbody></table>',
      '</section>',
    ];
    return out.filter((l) => l !== '').join('\n');
  }

  #clocksSection(): string {
    const clocks = [...this.#clocks.values()];
    const out = ['<section id="clocks">', '<h2>Clock offsets</h2>'];
    if (clocks.length === 0) {
      out.push(
        '<p>No offset estimated: the interfaces were on one clock, or no packet crossed two hosts.</p>',
      );
    } else {
      out.push(
        `<p>Time stamps are on the clock of ${escapeHtml(clocks[0].reference)}; each host's offset against it (its clock minus the reference), as estimated and applied.</p>`,
        '<table class="clocks"><thead><tr><th>host</th><th>offset</th><th>uncertainty</th><th>reference</th><th>estimates</th></tr></thead><tbody>',
        ...clocks.map(
          (c) =>
            `<tr><td>${escapeHtml(c.host)}</td><td class="n">${escapeHtml(offsetText(c.offsetMs))}</td><td class="n">± ${c.uncertaintyMs.toFixed(3)} ms</td><td>${escapeHtml(c.reference)}</td><td class="n">${escapeHtml(String(c.samples))}</td></tr>`,
        ),
        '</tbody></table>',
      );
    }
    out.push('</section>');
    return out.join('\n');
  }

  #okSection(ok: number): string {
    const out = ['<section id="ok">', `<h2>OK exchanges (${ok})</h2>`];
    if (this.#ok.length > 0) {
      out.push(
        ok > this.#ok.length
          ? `<p>The first ${this.#ok.length} are listed; all ${ok} are counted above.</p>`
          : '',
        '<table class="ok"><thead><tr><th>first seen</th><th>kind</th><th>exchange</th><th>answered in</th></tr></thead><tbody>',
        ...this.#ok.map(
          (o) =>
            `<tr><td>${escapeHtml(utc(o.ts))}</td><td>${escapeHtml(o.kind)}</td><td>${escapeHtml(o.key)}</td><td class="n">${o.rttMs !== undefined ? `${o.rttMs.toFixed(3)} ms` : '–'}</td></tr>`,
        ),
        '</tbody></table>',
      );
    }
    out.push('</section>');
    return out.filter((l) => l !== '').join('\n');
  }
}

/** One problem exchange: verdict, where, cause, ladder, and the text form to paste. */
function problemArticle(ex: ExchangeRecord, n: number): string {
  const lost = ex.lost;
  const facts = [`<dt>first seen</dt><dd>${escapeHtml(utc(ex.ts))}</dd>`];
  if (lost !== undefined) {
    facts.push(`<dt>stage</dt><dd>${escapeHtml(lost.stage)}</dd>`);
    facts.push(`<dt>last seen on</dt><dd class="last-seen">${escapeHtml(lost.lastSeen ?? '(nowhere)')}</dd>`);
    if (lost.missingOn.length > 0)
      facts.push(
        `<dt>missing on</dt><dd class="missing-on">${lost.missingOn.map((m) => `<span class="iface">${escapeHtml(m)}</span>`).join(', ')}</dd>`,
      );
  }
  if (ex.detail !== undefined) facts.push(`<dt>detail</dt><dd>${escapeHtml(ex.detail)}</dd>`);
  if (ex.rttMs !== undefined) facts.push(`<dt>answered in</dt><dd>${ex.rttMs.toFixed(3)} ms</dd>`);
  const cause = causeOf(ex);
  return [
    `<article class="exchange ${escapeHtml(ex.status)}" id="problem-${n}">`,
    `<h3><span class="status ${escapeHtml(ex.status)}">${escapeHtml(ex.status.toUpperCase())}</span> <span class="kind">${escapeHtml(ex.kind)}</span> <span class="key">${escapeHtml(ex.key)}</span></h3>`,
    `<p class="words">${escapeHtml(verdictWords(ex))}</p>`,
    `<dl class="where">${facts.join('')}</dl>`,
    cause !== null ? causeBlock(cause) : '',
    `<div class="ladder-box">${ladderSvg(ex)}</div>`,
    `<details><summary>as text</summary><pre>${escapeHtml(formatExchange(ex).join('\n'))}</pre></details>`,
    '</article>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function causeBlock(c: Cause): string {
  const evidence = c.evidence.map((e) => {
    const source = typeof e.source === 'string' ? e.source : '?';
    const fields = Object.entries(e)
      .filter(([k]) => k !== 'source')
      .map(
        ([k, v]) =>
          `<span class="field"><span class="k">${escapeHtml(k)}</span> ${escapeHtml(valueText(v))}</span>`,
      )
      .join(' ');
    return `<li><span class="source">${escapeHtml(source)}</span> ${fields}</li>`;
  });
  return [
    '<div class="cause">',
    `<p><span class="why">Why:</span> <code class="code">${escapeHtml(c.code)}</code> ${escapeHtml(c.summary)}</p>`,
    c.at !== null ? `<p class="at">at ${escapeHtml(c.at)}</p>` : '',
    evidence.length > 0 ? `<ul class="evidence">${evidence.join('')}</ul>` : '',
    '</div>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

function earlier(a: string, b: string): boolean {
  try {
    const x = parseTimestamp(a);
    const y = parseTimestamp(b);
    return x.sec < y.sec || (x.sec === y.sec && x.nsec < y.nsec);
  } catch {
    return false;
  }
}

/** `2026-11-22 10:23:47.112200674 UTC` from `1795352627.112200674`; the text as it is if it is not a time stamp. */
function utc(ts: string): string {
  try {
    const { sec, nsec } = parseTimestamp(ts);
    const date = new Date(sec * 1000);
    if (Number.isNaN(date.getTime())) return ts;
    return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(nsec).padStart(9, '0')} UTC`;
  } catch {
    return ts;
  }
}

export interface HtmlReportFileOptions extends HtmlReportOptions {
  /** replace an existing report file (as -w's --overwrite does a recording) */
  overwrite?: boolean;
}

/**
 * The report of a run, bound to its file: `open` checks the name when the run starts
 * (throws ReportFileError, e.g. code EEXIST), `record` takes every record, `close` writes
 * the page (throws ReportFileError, e.g. ENOSPC) and returns the path written.
 */
export class HtmlReportFile {
  readonly #report: HtmlReport;

  private constructor(
    readonly path: string,
    private readonly overwrite: boolean,
    options: HtmlReportOptions,
  ) {
    this.#report = new HtmlReport(options);
  }

  static open(path: string, options: HtmlReportFileOptions): HtmlReportFile {
    const overwrite = options.overwrite === true;
    checkReportTarget(path, overwrite);
    return new HtmlReportFile(path, overwrite, options);
  }

  record(r: ReportRecord): void {
    this.#report.record(r);
  }

  wants(status: ExchangeStatus): boolean {
    return this.#report.wants(status);
  }

  /** Writes the page; the path it went to (another name only when one took `path` during the run). */
  close(madeAt: Date = new Date()): string {
    return writeReportFile(this.path, this.#report.html(madeAt), this.overwrite);
  }
}

const STYLE = `
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
