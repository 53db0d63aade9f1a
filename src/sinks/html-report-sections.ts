// The sections of the report page (html-report.ts) after its header, each made from
// what HtmlReport collected: the contents (links to the drawn problem exchanges), the
// problem exchanges, the interfaces, the clock offsets and the ok exchanges. Pure text
// of those rows; every string from the records is escaped (html-text.ts).
import type { ClockRecord, ExchangeRecord, ExchangeStatus } from '../events/types.js';
import { offsetText } from './exchange-text.js';
import { problemArticle } from './html-report-problem.js';
import { utc } from './html-report-time.js';
import { escapeHtml } from './html-text.js';

/** One interface as the run saw it: its packets and drops (the last stats), its gaps. */
export interface InterfaceRow {
  id: number;
  label: string;
  file: string | null;
  packets: number | null;
  received: number | null;
  dropped: number;
  /** state changes other than up, with their reason */
  gaps: string[];
}

/** A problem exchange past those drawn: one table row. */
export interface ListedProblem {
  status: ExchangeStatus;
  kind: string;
  key: string;
  ts: string;
  words: string;
}

/** An ok exchange listed (the first REPORT_LIMITS.okRows). */
export interface OkRow {
  kind: string;
  key: string;
  ts: string;
  rttMs: number | undefined;
}

/** The problem exchanges kept, by how much of each the page shows. */
export interface CollectedProblems {
  /** all problems counted, drawn or not */
  count: number;
  /** drawn with their ladder, in the order they were judged */
  drawn: readonly ExchangeRecord[];
  /** how many are drawn at most (the page says so when more are listed) */
  drawnLimit: number;
  listed: readonly ListedProblem[];
  onlyCounted: number;
}

/** Links to the drawn problem exchanges, under the header (none when none is drawn). */
export function contentsNav(drawn: readonly ExchangeRecord[]): string {
  if (drawn.length === 0) return '';
  const items = drawn.map(
    (ex, i) =>
      `<li><a href="#problem-${i + 1}"><span class="status ${escapeHtml(ex.status)}">${escapeHtml(ex.status.toUpperCase())}</span> ${escapeHtml(ex.kind)} ${escapeHtml(ex.key)}</a></li>`,
  );
  return `<nav><ol class="contents">${items.join('')}</ol></nav>`;
}

export function problemsSection(p: CollectedProblems): string {
  const out = ['<section id="problems">', '<h2>Problem exchanges</h2>'];
  if (p.count === 0 && p.drawn.length === 0) out.push('<p>None: every exchange was answered.</p>');
  p.drawn.forEach((ex, i) => out.push(problemArticle(ex, i + 1)));
  if (p.listed.length > 0) {
    out.push(
      `<h3>${p.listed.length} more, not drawn (the first ${p.drawnLimit} are)</h3>`,
      '<table class="listed"><thead><tr><th>first seen</th><th>verdict</th><th>kind</th><th>exchange</th><th>where it broke</th></tr></thead><tbody>',
      ...p.listed.map(
        (l) =>
          `<tr class="${escapeHtml(l.status)}"><td>${escapeHtml(utc(l.ts))}</td><td>${escapeHtml(l.status.toUpperCase())}</td><td>${escapeHtml(l.kind)}</td><td>${escapeHtml(l.key)}</td><td>${escapeHtml(l.words)}</td></tr>`,
      ),
      '</tbody></table>',
    );
  }
  if (p.onlyCounted > 0)
    out.push(
      `<p class="more">…and ${p.onlyCounted} more problem exchanges, only counted here (--json lists every one).</p>`,
    );
  out.push('</section>');
  return out.join('\n');
}

/** The interfaces in the order they were announced; a column only when some row has it. */
export function interfacesSection(interfaces: Iterable<InterfaceRow>): string {
  const rows = [...interfaces].sort((a, b) => a.id - b.id);
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

export function clocksSection(clocks: readonly ClockRecord[]): string {
  const out = ['<section id="clocks">', '<h2>Clock offsets</h2>'];
  if (clocks.length === 0) {
    out.push('<p>No offset estimated: the interfaces were on one clock, or no packet crossed two hosts.</p>');
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

/** `ok` exchanges counted, `rows` of them listed. */
export function okSection(ok: number, rows: readonly OkRow[]): string {
  const out = ['<section id="ok">', `<h2>OK exchanges (${ok})</h2>`];
  if (rows.length > 0) {
    out.push(
      ok > rows.length ? `<p>The first ${rows.length} are listed; all ${ok} are counted above.</p>` : '',
      '<table class="ok"><thead><tr><th>first seen</th><th>kind</th><th>exchange</th><th>answered in</th></tr></thead><tbody>',
      ...rows.map(
        (o) =>
          `<tr><td>${escapeHtml(utc(o.ts))}</td><td>${escapeHtml(o.kind)}</td><td>${escapeHtml(o.key)}</td><td class="n">${o.rttMs !== undefined ? `${o.rttMs.toFixed(3)} ms` : '–'}</td></tr>`,
      ),
      '</tbody></table>',
    );
  }
  out.push('</section>');
  return out.filter((l) => l !== '').join('\n');
}
