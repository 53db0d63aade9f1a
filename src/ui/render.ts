// The text of each TUI panel, as pure functions of the model and a width: the header,
// the interfaces (state, packets/s as a sparkline, drops, clock offsets), and the
// exchanges table (problems first, each saying where it broke). blessed only places them.
import type { ExchangeRecord } from '../events/types.js';
import { offsetText, whyWords } from '../sinks/exchange-text.js';
import { parseLabel } from '../shared/label.js';
import { roleOf } from '../shared/roles.js';
import { shortLabel } from './ladder.js';
import { STATUSES, VIEWS, type ExchangeGroup, type InterfaceRow, type TuiModel } from './model.js';

const SPARKS = '▁▂▃▄▅▆▇█';

/**
 * A label in `width` columns keeping what tells interfaces apart — the host and the
 * interface's own name — and cutting the middle of the namespace:
 * "compute:qrouter-6f77…/qr-56c1b2a3-7e".
 */
export function fitLabel(label: string, width: number): string {
  if (label.length <= width) return label.padEnd(width);
  const name = shortLabel(label);
  const head = label.slice(0, label.length - name.length);
  const room = width - name.length - 1;
  if (room < 4) return `…${label.slice(label.length - width + 1)}`;
  return `${head.slice(0, room - 1)}…${head.slice(-1)}${name}`;
}

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

/** 1536 → "1.5 KiB", as ls -h would say it. */
export function byteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** "16 exchanges: 4 lost, 12 ok" — the statuses that occurred, problems first. */
function summaryText(model: TuiModel): string {
  const s = model.summary;
  const counts = STATUSES.filter((k) => s[k] > 0).map((k) => `${s[k]} ${k}`);
  return `${s.exchanges} exchange${s.exchanges === 1 ? '' : 's'}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`;
}

export function headerLine(model: TuiModel, width: number, now = Date.now()): string {
  const parts = [
    `hopscope ${model.mode === 'live' ? 'LIVE' : 'REPLAY'} ${model.source}`,
    // a notice (a recording started or stopped) goes first: a narrow terminal cuts the end
    ...(model.notice !== null ? [model.notice] : []),
    ...(model.mode === 'replay'
      ? [
          `${model.finished ? 'read to the end' : 'at'}${model.position !== null ? ` ${new Date(model.position * 1000).toISOString().slice(11, 23)}` : ''}${model.speed !== null ? ` ×${model.speed}` : ''}`,
        ]
      : []),
    duration(now - model.startedMs),
    `${Math.round(model.packetsPerSecond)} pkt/s`,
    summaryText(model),
    ...(model.recording !== null ? [`recording ${model.recording} (${byteSize(model.recordingBytes)})`] : []),
    ...(model.paused ? ['PAUSED'] : []),
  ];
  return fit(parts.join('  │  '), width);
}

function stateText(row: InterfaceRow): string {
  return row.state === 'up' ? 'up' : row.state.toUpperCase();
}

/**
 * One line per interface: label, role, state, packets/s as a sparkline, the rate and
 * count, kernel drops flagged with '!' (the TUI colours them red), and for an interface
 * on a remote host, that host's clock offset.
 */
export function interfaceLines(model: TuiModel, width: number): string[] {
  const rows = [...model.interfaces.values()];
  const labelWidth = Math.max(10, Math.min(48, Math.max(0, ...rows.map((r) => r.label.length))));
  const tails = rows.map((r) => {
    const host = parseLabel(r.label).host;
    const clock = host !== null ? model.clocks.get(host) : undefined;
    const offset =
      clock !== undefined ? `clock ${offsetText(clock.offsetMs)} ±${clock.uncertaintyMs.toFixed(3)}` : '';
    const drops = r.dropped > 0 ? `! ${r.dropped} dropped` : '';
    return [drops, offset].filter((x) => x !== '').join('  ');
  });
  // label, role (9), state (9), the sparkline, rate (10), packets (11), the tail: the
  // sparkline gives way first.
  const tailWidth = Math.max(0, ...tails.map((t) => t.length));
  const spark = Math.max(5, Math.min(30, width - labelWidth - 9 - 9 - 1 - 10 - 11 - 2 - tailWidth));
  const lines = rows.map((r, i) => {
    const rate = r.history.at(-1) ?? 0;
    return fit(
      `${fitLabel(r.label, labelWidth)} ${roleOf(shortLabel(r.label), null).padEnd(8)} ${stateText(r).padEnd(8)} ${sparkline(r.history, spark)} ${String(Math.round(rate)).padStart(7)}/s ${String(r.packets).padStart(9)}  ${tails[i]}`,
      width,
    );
  });
  // The rows show each host's offset; one line says against which host's clock.
  const reference = [...model.clocks.values()][0]?.reference;
  if (reference !== undefined) {
    lines.push(fit(`clock offsets against ${reference} (time stamps are on its clock)`, width));
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
      if (lost?.missingOn.length === 0)
        return `${lost.stage} not taken at ${shortLabel(lost.lastSeen ?? '?')}: asked again`;
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

/**
 * A table row: status, count, kind, key and where it broke — for a group of a flow's
 * exchanges with the same verdict "×N" and the flow (the newest one's timing).
 */
export function groupLine(g: ExchangeGroup, width: number): string {
  const ex = g.latest;
  const count = g.count > 1 ? `×${g.count}` : '';
  const what = g.count > 1 ? g.flow : ex.key;
  // Where it broke matters most: on a narrow terminal the key column gives way.
  const keyWidth = Math.max(20, Math.min(44, width - 80));
  return fit(
    `${ex.status.toUpperCase().padEnd(12)} ${count.padEnd(5)} ${ex.kind.padEnd(13)} ${fit(what, keyWidth)} ${whereItBroke(ex)}`,
    width,
  );
}

/**
 * The line under a problem row, when its newest exchange has a cause:
 * "      why: dropped by nftables rule handle 7 in bridge neutron_sg forward: …".
 */
export function whyLine(g: ExchangeGroup, width: number): string | null {
  const cause = g.latest.cause;
  if (cause === undefined) return null;
  return fit(`${' '.repeat(18)} ${cause.code} at ${shortLabel(cause.at)}: ${whyWords(cause)}`, width);
}

/** The tab bar: the current view in brackets, with its key. */
export function tabsLine(model: TuiModel): string {
  const tabs = VIEWS.map((v, i) => (v === model.view ? `[${i + 1} ${v}]` : ` ${i + 1} ${v} `)).join(' ');
  return model.okNotListed > 0 ? `${tabs} — ${model.okNotListed} ok not listed (over 500/s)` : tabs;
}

export const HELP_TEXT = [
  'hopscope — keys',
  '',
  '  ↑ ↓ PgUp PgDn   move in the exchanges table',
  '  Enter           the ladder of the selected exchange (Esc closes it)',
  '  /               filter: an address, an interface, a kind, a status (empty: all)',
  '  1 … 6           all exchanges, DHCP, DNS, ARP, ICMP (echo, timestamp), TCP handshakes',
  '  p               pause / resume (a paced replay stops reading)',
  '  r               live: stop the recording, or start one (next to -w FILE, else in captures/)',
  '  + -             replay faster / slower (with --speed or --realtime)',
  '  ?               this help',
  '  q, Ctrl-C       quit (a recording is closed complete)',
].join('\n');
