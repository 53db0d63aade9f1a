// The ladder of one exchange (sngrep's call flow, for packets), as text lines: one
// column per interface in path order, time flowing down, each stage's packet drawn
// hop by hop (left to right for the question, back for the answer) with the delay of
// the hop, and — where it stopped — the interface it was last seen on and a ✗ under
// every interface where it should have appeared and did not. A pure function of the
// exchange record and a width, so the TUI draws it and the tests read it as strings.
import type { ExchangeRecord } from '../events/types.js';
import { parseTimestamp } from '../shared/timestamp-text.js';

const MIN_COLUMN = 8;
/** Right margin for the hop delay and notes. */
const NOTE_WIDTH = 26;

/** The interface's own name: what is after the last '/' or ':' of its label. */
export function shortLabel(label: string): string {
  return label.slice(Math.max(label.lastIndexOf('/'), label.lastIndexOf(':')) + 1);
}

/**
 * Column titles: the interface's own name, or — when two columns share it (eth0 on two
 * hosts) — with its namespace or host in front.
 */
export function columnNames(labels: readonly string[]): string[] {
  const short = labels.map(shortLabel);
  return labels.map((label, i) => {
    if (short.filter((s) => s === short[i]).length === 1) return short[i];
    const rest = label.slice(0, label.length - short[i].length - 1);
    return `${shortLabel(rest)}/${short[i]}`;
  });
}

/** Interfaces in path order: the first stage's, then any others (answers, missing ones) in order of appearance. */
export function ladderColumns(ex: ExchangeRecord): string[] {
  const columns: string[] = [];
  const add = (label: string): void => {
    if (!columns.includes(label)) columns.push(label);
  };
  for (const s of ex.stages.slice(0, 1)) for (const seen of s.seen) add(seen.iface);
  if (ex.lost && ex.stages[0]?.name === ex.lost.stage) for (const m of ex.lost.missingOn) add(m);
  for (const s of ex.stages.slice(1)) {
    // answers come back: interfaces only they saw go where they were met
    for (const seen of s.seen) add(seen.iface);
  }
  if (ex.lost) for (const m of ex.lost.missingOn) add(m);
  return columns;
}

function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

function center(text: string, width: number): string {
  const t = fit(text, width);
  const left = Math.floor((width - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(width - t.length - left);
}

/** a − b in ms, for time stamps in decimal seconds with nanosecond digits (no float rounding of the seconds). */
export function tsDiffMs(a: string, b: string): number {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  return (x.sec - y.sec) * 1e3 + (x.nsec - y.nsec) / 1e6;
}

/** Lines of the ladder, each at most `width` characters. */
export function ladderLines(ex: ExchangeRecord, width: number): string[] {
  const columns = ladderColumns(ex);
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
  const names = columnNames(columns);
  // a space between neighbours however narrow the columns
  out.push(
    fit(
      names
        .map((c) => center(c, col - 1) + ' ')
        .join('')
        .trimEnd(),
      width,
    ),
  );
  emit(blank());

  let previousLast: string | null = null;
  for (const stage of ex.stages) {
    const seen = stage.seen.filter((s) => columns.includes(s.iface));
    if (seen.length === 0) continue;
    if (previousLast !== null) {
      // the turnaround: how long after the previous stage's last sighting this one began
      // (a server's think time, an ARP resolution holding the reply)
      emit(blank(), `${stage.name} ${tsDiffMs(seen[0].ts, previousLast).toFixed(3)} ms later`);
    }
    previousLast = seen[seen.length - 1].ts;
    if (seen.length === 1) {
      const row = blank();
      row[mid(columns.indexOf(seen[0].iface))] = '●';
      emit(row, `${stage.name} seen only here`);
    }
    for (let h = 0; h + 1 < seen.length; h++) {
      const from = columns.indexOf(seen[h].iface);
      const to = columns.indexOf(seen[h + 1].iface);
      const row = blank();
      const a = mid(Math.min(from, to));
      const b = mid(Math.max(from, to));
      for (let x = a + 1; x < b; x++) row[x] = '─';
      row[mid(from)] = '●';
      row[mid(to)] = to > from ? '▶' : to < from ? '◀' : '●';
      if (h === 0 && b - a > stage.name.length + 2) {
        // the stage's name rides on its first hop
        const start = a + 1 + Math.floor((b - a - 1 - stage.name.length) / 2);
        for (let k = 0; k < stage.name.length; k++) row[start + k] = stage.name[k];
      }
      const delay = seen[h + 1].hopMs;
      emit(row, delay !== undefined ? `+${delay.toFixed(3)} ms` : '');
    }
    if (ex.lost && ex.lost.stage === stage.name && ex.lost.missingOn.length > 0) {
      const row = blank();
      if (ex.lost.lastSeen !== null && columns.includes(ex.lost.lastSeen))
        row[mid(columns.indexOf(ex.lost.lastSeen))] = '●';
      for (const m of ex.lost.missingOn) row[mid(columns.indexOf(m))] = '✗';
      emit(row, `${stage.name} stops after ${shortLabel(ex.lost.lastSeen ?? '?')}`);
    }
  }
  if (ex.lost && ex.status !== 'lost' && ex.lost.missingOn.length === 0) {
    const row = blank();
    if (ex.lost.lastSeen !== null && columns.includes(ex.lost.lastSeen))
      row[mid(columns.indexOf(ex.lost.lastSeen))] = '?';
    emit(row, `no ${ex.lost.stage} seen anywhere`);
  }
  const missing = ex.lost?.missingOn ?? [];
  if (missing.length > 0) out.push(fit(`✗ missing on: ${missing.map(shortLabel).join(', ')}`, width));
  if (ex.detail) out.push(fit(`(${ex.detail})`, width));
  return out;
}
