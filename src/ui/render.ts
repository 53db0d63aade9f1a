// The text of each TUI panel, as pure functions of the model and a width: the header,
// the interfaces (state, packets/s as a sparkline, drops, clock offsets), and the
// exchanges table (problems first, each saying where it broke). blessed only places them.
import type { ExchangeRecord } from '../events/types.js';
import { shortLabel } from './ladder.js';
import { VIEWS, type InterfaceRow, type TuiModel } from './model.js';

const SPARKS = '▁▂▃▄▅▆▇█';

function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(1, ...shown);
  return shown
    .map((v) =>
      v <= 0 ? ' ' : SPARKS[Math.min(SPARKS.length - 1, Math.floor((v / max) * (SPARKS.length - 1)))],
    )
    .join('')
    .padStart(width);
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function headerLine(model: TuiModel, width: number, now = Date.now()): string {
  const s = model.summary;
  const parts = [
    `hopscope ${model.mode === 'live' ? 'LIVE' : 'REPLAY'} ${model.source}`,
    ...(model.mode === 'replay'
      ? [
          `${model.finished ? 'read to the end' : 'at'}${model.position !== null ? ` ${new Date(model.position * 1000).toISOString().slice(11, 23)}` : ''}${model.speed !== null ? ` ×${model.speed}` : ''}`,
        ]
      : []),
    duration(now - model.startedMs),
    `${Math.round(model.packetsPerSecond)} pkt/s`,
    `${s.exchanges} exchanges: ${s.lost} lost, ${s.unanswered} unanswered, ${s.error} error, ${s.inconclusive} inconclusive, ${s.ok} ok`,
    ...(model.recording !== null ? [`recording ${model.recording}`] : []),
    ...(model.paused ? ['PAUSED'] : []),
  ];
  return fit(parts.join('  │  '), width);
}

function stateText(row: InterfaceRow): string {
  return row.state === 'up' ? 'up' : row.state.toUpperCase();
}

/** One line per interface; drops are flagged with '!' (the TUI colours them red). */
export function interfaceLines(model: TuiModel, width: number): string[] {
  const rows = [...model.interfaces.values()];
  const labelWidth = Math.max(10, Math.min(48, Math.max(0, ...rows.map((r) => r.label.length))));
  const spark = Math.max(5, Math.min(30, width - labelWidth - 40));
  const lines = rows.map((r) => {
    const rate = r.history.at(-1) ?? 0;
    const drops = r.dropped > 0 ? `! ${r.dropped} dropped` : '';
    return fit(
      `${fit(r.label, labelWidth)} ${stateText(r).padEnd(8)} ${sparkline(r.history, spark)} ${String(Math.round(rate)).padStart(7)}/s ${String(r.packets).padStart(9)}  ${drops}`,
      width,
    );
  });
  for (const c of model.clocks.values()) {
    lines.push(
      fit(
        `clock of ${c.host}: ${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs.toFixed(3)} ms against ${c.reference}`,
        width,
      ),
    );
  }
  return lines;
}

/** Where it broke, in a few words: "reply lost after br100, missing on tap…, eth0". */
export function whereItBroke(ex: ExchangeRecord): string {
  const lost = ex.lost;
  switch (ex.status) {
    case 'ok':
      return ex.rttMs !== undefined ? `ok in ${ex.rttMs.toFixed(3)} ms` : 'ok';
    case 'lost':
      return lost
        ? `${lost.stage} lost after ${shortLabel(lost.lastSeen ?? '?')}, missing on ${lost.missingOn.map(shortLabel).join(', ')}`
        : 'lost';
    case 'unanswered':
      return lost
        ? `no ${lost.stage}; ${ex.stages[0]?.name ?? 'question'} reached ${shortLabel(lost.lastSeen ?? '?')}`
        : 'unanswered';
    case 'error':
      return `error: ${ex.detail ?? ''}`;
    case 'inconclusive':
      return `inconclusive: ${ex.detail ?? ''}`;
  }
}

export function exchangeLine(ex: ExchangeRecord, width: number): string {
  return fit(
    `${ex.status.toUpperCase().padEnd(12)} ${ex.kind.padEnd(13)} ${fit(ex.key, 44)} ${whereItBroke(ex)}`,
    width,
  );
}

/** The tab bar: the current view in brackets, with its key. */
export function tabsLine(model: TuiModel): string {
  return VIEWS.map((v, i) => (v === model.view ? `[${i + 1} ${v}]` : ` ${i + 1} ${v} `)).join(' ');
}

export const HELP_TEXT = [
  'hopscope — keys',
  '',
  '  ↑ ↓ PgUp PgDn   move in the exchanges table',
  '  Enter           the ladder of the selected exchange (Esc closes it)',
  '  /               filter: an address, an interface, a kind, a status (empty: all)',
  '  1 … 6           all exchanges, DHCP, DNS, ARP, ICMP echo, TCP handshakes',
  '  p               pause / resume (a paced replay stops reading)',
  '  + -             replay faster / slower (with --speed or --realtime)',
  '  ?               this help',
  '  q, Ctrl-C       quit (a recording is closed complete)',
].join('\n');
