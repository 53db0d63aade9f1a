// One problem exchange on the report page (html-report.ts): the verdict in words, where
// it was last seen and where it is missing, its cause when one was found, its ladder as
// SVG (html-ladder.ts) and the same exchange as text to paste into a ticket.
import type { ExchangeRecord } from '../events/types.js';
import { formatExchange, verdictWords } from './exchange-text.js';
import { ladderSvg } from './html-ladder.js';
import { escapeHtml } from './html-text.js';
import { utc } from './html-report-time.js';

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

/** One problem exchange: verdict, where, cause, ladder, and the text form to paste. */
export function problemArticle(ex: ExchangeRecord, n: number): string {
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
