// The ladder of one exchange (sngrep's call flow, for packets), as text lines: one
// column per interface in path order, time flowing down, each stage's packet drawn
// hop by hop (left to right for the question, back for the answer) with the delay of
// the hop, and — where it stopped — the interface it was last seen on and a ✗ under
// every interface where it should have appeared and did not, and under it why (the
// cause's code, the hop and its summary, wrapped). A pure function of the
// exchange record and a width, so the TUI draws it and the tests read it as strings.
import type { ExchangeRecord } from '../events/types.js';
import { whyWords } from '../sinks/exchange-text.js';
import { layoutLadder, shortLabel } from '../shared/ladder-layout.js';

// The geometry is shared with the HTML report's SVG ladder; these stay importable from here.
export { columnNames, ladderColumns, shortLabel, tsDiffMs } from '../shared/ladder-layout.js';

const MIN_COLUMN = 8;
/** Right margin for the hop delay and notes. */
const NOTE_WIDTH = 26;

function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

function center(text: string, width: number): string {
  const t = fit(text, width);
  const left = Math.floor((width - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(width - t.length - left);
}

/** Lines of the ladder, each at most `width` characters. */
export function ladderLines(ex: ExchangeRecord, width: number): string[] {
  const { columns, titles, steps } = layoutLadder(ex);
  const n = Math.max(columns.length, 1);
  const col = Math.max(MIN_COLUMN, Math.floor((width - NOTE_WIDTH) / n));
  const mid = (i: number): number => i * col + Math.floor(col / 2);
  const span = n * col;
  const blank = (): string[] => {
    const row = Array.from({ length: span }, () => ' ');
    for (let i = 0; i < n; i++) row[mid(i)] = '│';
    return row;
  };
  const out: string[] = [];
  const emit = (row: string[], note = ''): void => {
    out.push(fit(`${row.join('')}  ${note}`.trimEnd(), width));
  };
  const head = `${ex.status.toUpperCase()} ${ex.kind} ${ex.key}`;
  out.push(fit(head, width));
  // a space between neighbours however narrow the columns
  out.push(
    fit(
      titles
        .map((c) => center(c, col - 1) + ' ')
        .join('')
        .trimEnd(),
      width,
    ),
  );
  emit(blank());

  for (const step of steps) {
    const row = blank();
    switch (step.kind) {
      case 'turnaround':
        emit(row, `${step.stage} ${step.ms.toFixed(3)} ms later`);
        break;
      case 'alone':
        row[mid(step.column)] = '●';
        emit(row, `${step.stage} seen only here`);
        break;
      case 'hop': {
        const { from, to } = step;
        const a = mid(Math.min(from, to));
        const b = mid(Math.max(from, to));
        for (let x = a + 1; x < b; x++) row[x] = '─';
        row[mid(from)] = '●';
        row[mid(to)] = to > from ? '▶' : to < from ? '◀' : '●';
        if (step.first && b - a > step.stage.length + 2) {
          // the stage's name rides on its first hop
          const start = a + 1 + Math.floor((b - a - 1 - step.stage.length) / 2);
          for (let k = 0; k < step.stage.length; k++) row[start + k] = step.stage[k];
        }
        emit(row, step.hopMs !== undefined ? `+${step.hopMs.toFixed(3)} ms` : '');
        break;
      }
      case 'stop':
        if (step.lastSeen !== null) row[mid(step.lastSeen)] = '●';
        for (const m of step.missing) row[mid(m)] = '✗';
        emit(
          row,
          `${step.stage} stops after ${shortLabel(step.lastSeenLabel ?? '?')}${ex.cause !== undefined ? `: ${ex.cause.code}` : ''}`,
        );
        break;
      case 'nowhere':
        if (step.lastSeen !== null) row[mid(step.lastSeen)] = '?';
        emit(row, `no ${step.stage} seen anywhere`);
        break;
    }
  }
  const missing = ex.lost?.missingOn ?? [];
  if (missing.length > 0) out.push(fit(`✗ missing on: ${missing.map(shortLabel).join(', ')}`, width));
  if (ex.detail) out.push(fit(`(${ex.detail})`, width));
  const cause = ex.cause;
  if (cause !== undefined) {
    const head = `${missing.length > 0 ? '✗ ' : ''}${cause.code} at ${shortLabel(cause.at)} — `;
    out.push(...wrap(`${head}${whyWords(cause)}`, width, ' '.repeat(Math.min(8, head.length))));
  }
  return out;
}

/** Text in lines of at most `width`, broken at spaces (a word longer than a line is cut), the later ones indented. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length <= width || line.trim() === '') {
      line = next;
      continue;
    }
    lines.push(fit(line, width));
    line = `${indent}${word}`;
  }
  if (line.trim() !== '') lines.push(fit(line, width));
  return lines;
}
