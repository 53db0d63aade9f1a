// The geometry of an exchange's ladder (sngrep's call flow, for packets), apart from
// any drawing: the columns — one per interface, in path order — and the steps down the
// ladder, each a hop of a stage's packet from one column to another with its delay,
// the turnaround between two stages, or the place a stage stopped with the columns
// where it should have appeared and did not. The TUI draws it as text lines
// (ui/ladder.ts) and the HTML report as SVG (sinks/html-ladder.ts); both read only
// this, so they cannot disagree about what the ladder shows. Pure.
import type { ExchangeRecord } from '../events/types.js';
import { parseTimestamp } from './timestamp-text.js';

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

/** a − b in ms, for time stamps in decimal seconds with nanosecond digits (no float rounding of the seconds). */
export function tsDiffMs(a: string, b: string): number {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  return (x.sec - y.sec) * 1e3 + (x.nsec - y.nsec) / 1e6;
}

/** One step down the ladder. Columns are indices into LadderLayout.columns. */
export type LadderStep =
  /** a stage began this long after the previous stage's last sighting (a server's think time, an ARP resolution) */
  | { kind: 'turnaround'; stage: string; ms: number }
  /** a stage's packet seen on one interface only */
  | { kind: 'alone'; stage: string; column: number }
  /** a stage's packet from one interface to the next; `first` for the stage's first hop (its name rides on it) */
  | { kind: 'hop'; stage: string; from: number; to: number; first: boolean; hopMs: number | undefined }
  /** the stage stopped after `lastSeen` (a column, or null when not one) and never reached `missing` */
  | { kind: 'stop'; stage: string; lastSeen: number | null; lastSeenLabel: string | null; missing: number[] }
  /** no packet of the stage anywhere (unanswered, or would have been): the question's last interface, if drawn */
  | { kind: 'nowhere'; stage: string; lastSeen: number | null };

export interface LadderLayout {
  /** interface labels, in path order */
  columns: string[];
  /** their titles (columnNames) */
  titles: string[];
  steps: LadderStep[];
}

/** The ladder of one exchange: its columns and its steps, top to bottom. */
export function layoutLadder(ex: ExchangeRecord): LadderLayout {
  const columns = ladderColumns(ex);
  const at = (label: string | null): number | null =>
    label !== null && columns.includes(label) ? columns.indexOf(label) : null;
  const steps: LadderStep[] = [];
  let previousLast: string | null = null;
  for (const stage of ex.stages) {
    const seen = stage.seen.filter((s) => columns.includes(s.iface));
    if (seen.length === 0) continue;
    if (previousLast !== null)
      steps.push({ kind: 'turnaround', stage: stage.name, ms: tsDiffMs(seen[0].ts, previousLast) });
    previousLast = seen[seen.length - 1].ts;
    if (seen.length === 1)
      steps.push({ kind: 'alone', stage: stage.name, column: columns.indexOf(seen[0].iface) });
    for (let h = 0; h + 1 < seen.length; h++) {
      steps.push({
        kind: 'hop',
        stage: stage.name,
        from: columns.indexOf(seen[h].iface),
        to: columns.indexOf(seen[h + 1].iface),
        first: h === 0,
        hopMs: seen[h + 1].hopMs,
      });
    }
    if (ex.lost && ex.lost.stage === stage.name && ex.lost.missingOn.length > 0) {
      steps.push({
        kind: 'stop',
        stage: stage.name,
        lastSeen: at(ex.lost.lastSeen),
        lastSeenLabel: ex.lost.lastSeen,
        missing: ex.lost.missingOn.map((m) => columns.indexOf(m)),
      });
    }
  }
  if (ex.lost && ex.status !== 'lost' && ex.lost.missingOn.length === 0)
    steps.push({ kind: 'nowhere', stage: ex.lost.stage, lastSeen: at(ex.lost.lastSeen) });
  return { columns, titles: columnNames(columns), steps };
}
