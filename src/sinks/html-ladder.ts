// The ladder of one exchange as inline SVG, for the HTML report: the same columns and
// steps as the TUI's text ladder (shared/ladder-layout.ts), drawn with lines, dots and
// arrowheads — one column per interface in path order (its name, and above it the host
// and namespace it lives in), the question out and the answer back hop by hop with each
// hop's delay on the right, the turnaround between stages, and a ✗ under every
// interface where the packet should have been and was not. A column's title is the
// interface's own name under its host and namespace, each on its line (cut to fit,
// the whole label in the column's tooltip).
//
// Styling is by class (the report's stylesheet): stages alternate `question` and
// `answer` (icmp request/reply, tcp syn/syn-ack/ack, dhcp discover/offer/request/ack).
// Marks a reader or a test looks for carry the interface's label: each column is
// `g.column[data-iface]`, each missing mark `text.missing[data-iface]`. No ids, so any
// number of ladders share one page.
import type { ExchangeRecord } from '../events/types.js';
import { parseLabel } from '../shared/label.js';
import { layoutLadder, shortLabel, type LadderStep } from '../shared/ladder-layout.js';
import { cutEnd, escapeHtml } from './html-text.js';

/** Width of a column, px. */
const COLUMN = 100;
const PAD_X = 10;
/** Height of the three title lines (host, namespace, name) above the lifelines. */
const HEAD = 56;
const ROW = 24;
/** Width of a character of the notes (11 px monospace), px. */
const CHAR = 6.8;
/** Characters that fit a column at the stylesheet's 11 px monospace (~6.6 px each). */
const NAME_CHARS = 14;
/** …and at 10 px (the host and namespace lines). */
const WHERE_CHARS = 16;
const DOT_R = 4.5;
const ARROW = 9;

const mid = (i: number): number => PAD_X + i * COLUMN + COLUMN / 2;
const num = (x: number): string => String(Math.round(x * 10) / 10);

function text(x: number, y: number, cls: string, content: string, extra = ''): string {
  return `<text class="${cls}" x="${num(x)}" y="${num(y)}"${extra}>${escapeHtml(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, cls: string): string {
  return `<line class="${cls}" x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}"/>`;
}

function dot(x: number, y: number, cls: string): string {
  return `<circle class="${cls}" cx="${num(x)}" cy="${num(y)}" r="${DOT_R}"/>`;
}

/** An arrowhead whose tip is at (x, y), pointing right (dir 1) or left (-1). */
function arrowhead(x: number, y: number, dir: number, cls: string): string {
  const base = x - dir * ARROW;
  return `<polygon class="${cls}" points="${num(x)},${num(y)} ${num(base)},${num(y - 5)} ${num(base)},${num(y + 5)}"/>`;
}

/** The SVG element of one exchange's ladder. */
export function ladderSvg(ex: ExchangeRecord): string {
  const { columns, steps } = layoutLadder(ex);
  const n = Math.max(columns.length, 1);
  const notesX = PAD_X + n * COLUMN + 8;
  const stageClass = (stage: string): string => {
    const i = ex.stages.findIndex((s) => s.name === stage);
    return i % 2 === 1 ? 'answer' : 'question';
  };
  const notes: string[] = [];
  const body = steps.map((step, k) =>
    drawStep(step, HEAD + ROW * (k + 1), columns, notesX, n, stageClass, notes),
  );
  const width = Math.ceil(notesX + Math.max(0, ...notes.map((t) => t.length)) * CHAR + PAD_X);
  const height = HEAD + ROW * (steps.length + 1) + ROW / 2;
  const parts: string[] = [];
  parts.push(
    `<svg class="ladder" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`ladder of ${ex.status} ${ex.kind} ${ex.key}`)}">`,
  );
  columns.forEach((label, i) => {
    const x = mid(i);
    const where = parseLabel(label);
    parts.push(
      `<g class="column" data-iface="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>` +
        text(x, 12, 'where', cutEnd(where.host ?? '', WHERE_CHARS)) +
        text(x, 26, 'where', cutEnd(where.netns ?? '', WHERE_CHARS)) +
        text(x, 42, 'name', cutEnd(where.name, NAME_CHARS)) +
        line(x, 50, x, height - ROW / 2, 'life') +
        '</g>',
    );
  });
  parts.push(...body, '</svg>');
  return parts.join('');
}

function drawStep(
  step: LadderStep,
  y: number,
  columns: readonly string[],
  notesX: number,
  n: number,
  stageClass: (stage: string) => string,
  notes: string[],
): string {
  const note = (content: string, cls = 'note'): string => {
    notes.push(content);
    return text(notesX, y + 4, cls, content);
  };
  switch (step.kind) {
    case 'turnaround':
      return (
        line(mid(0), y, mid(n - 1), y, 'turnaround') + note(`${step.stage} ${step.ms.toFixed(3)} ms later`)
      );
    case 'alone':
      return dot(mid(step.column), y, `hop ${stageClass(step.stage)}`) + note(`${step.stage} seen only here`);
    case 'hop': {
      const cls = `hop ${stageClass(step.stage)}`;
      const from = mid(step.from);
      const to = mid(step.to);
      const delay = step.hopMs !== undefined ? note(`+${step.hopMs.toFixed(3)} ms`) : '';
      if (step.from === step.to) return dot(from, y, cls) + delay;
      const dir = to > from ? 1 : -1;
      let out = line(from, y, to - dir * ARROW, y, cls) + dot(from, y, cls) + arrowhead(to, y, dir, cls);
      // the stage's name rides on its first hop, as in the text ladder
      if (step.first && Math.abs(to - from) > (step.stage.length + 2) * 6.6)
        out += text((from + to) / 2, y - 5, `stage ${stageClass(step.stage)}`, step.stage);
      return out + delay;
    }
    case 'stop': {
      let out = '';
      const farthest = step.missing.length > 0 ? step.missing[step.missing.length - 1] : null;
      if (step.lastSeen !== null && farthest !== null)
        out += line(mid(step.lastSeen), y, mid(farthest), y, 'gap');
      if (step.lastSeen !== null) out += dot(mid(step.lastSeen), y, 'last-seen');
      for (const m of step.missing) {
        out += `<text class="missing" x="${num(mid(m))}" y="${num(y + 7)}" data-iface="${escapeHtml(columns[m])}">✗</text>`;
      }
      return out + note(`${step.stage} stops after ${shortLabel(step.lastSeenLabel ?? '?')}`, 'note stop');
    }
    case 'nowhere':
      return (
        (step.lastSeen !== null ? text(mid(step.lastSeen), y + 5, 'nowhere', '?') : '') +
        note(`no ${step.stage} seen anywhere`, 'note stop')
      );
  }
}
