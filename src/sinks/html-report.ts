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
//
// This file collects the records and frames the page; the sections are made in
// html-report-sections.ts, a problem exchange in html-report-problem.ts, the
// stylesheet is html-report-style.ts.
import type {
  ClockRecord,
  ExchangeRecord,
  ExchangeStatus,
  PacketView,
  SkippedRecord,
  SummaryRecord,
} from '../events/types.js';
import { verdictWords } from './exchange-text.js';
import {
  clocksSection,
  contentsNav,
  interfacesSection,
  okSection,
  problemsSection,
  type InterfaceRow,
  type ListedProblem,
  type OkRow,
} from './html-report-sections.js';
import { REPORT_STYLE } from './html-report-style.js';
import { earlier, utc } from './html-report-time.js';
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
      `<style>${REPORT_STYLE}</style>`,
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
      contentsNav(this.#drawn),
      '</header>',
      '<main>',
      problemsSection({
        count: problems,
        drawn: this.#drawn,
        drawnLimit: REPORT_LIMITS.ladders,
        listed: this.#listed,
        onlyCounted: this.#problemsOnlyCounted,
      }),
      interfacesSection(this.#interfaces.values()),
      clocksSection([...this.#clocks.values()]),
      okSection(s.ok, this.#ok),
      '</main>',
      '</body>',
      '</html>',
      '',
    ]
      .filter((line) => line !== '')
      .join('\n');
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
