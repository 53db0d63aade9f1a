// What the terminal UI shows, as plain state fed by the same events as the other sinks
// (interfaces, states, counters, packets, exchanges, clocks) and read by the pure
// render functions (render.ts). No blessed here: the tests drive it directly.
import type { ClockRecord, ExchangeRecord, InterfaceState, SummaryRecord } from '../events/types.js';
import { verdictWords } from '../sinks/exchange-text.js';

/** Exchanges kept for the table; beyond, the oldest ok ones go first. */
const MAX_EXCHANGES = 5000;
/** How long a notice stays in the header. */
const NOTICE_MS = 5000;
/** Samples of packets/s kept per interface for its sparkline. */
const HISTORY = 30;

export interface InterfaceRow {
  id: number;
  label: string;
  state: InterfaceState;
  packets: number;
  dropped: number;
  /** packets/s, one sample per tick */
  history: number[];
  lastTickPackets: number;
}

/** Tabs of the exchanges table (keys 1–6). */
export const VIEWS = ['all', 'dhcp', 'dns', 'arp', 'icmp', 'tcp'] as const;
export type ViewName = (typeof VIEWS)[number];

function inView(e: ExchangeRecord, view: ViewName): boolean {
  if (view === 'all') return true;
  if (view === 'icmp') return e.kind === 'icmp-echo' || e.kind === 'icmpv6-echo';
  if (view === 'tcp') return e.kind === 'tcp-handshake';
  return e.kind === view;
}

/**
 * The flow an exchange belongs to, from its key: the same ping, connection target, query
 * or client without the per-exchange identifiers (sequence, source port, ISN, query id).
 */
export function flowOf(e: ExchangeRecord): string {
  const k = e.key;
  switch (e.kind) {
    case 'icmp-echo':
    case 'icmpv6-echo':
      return k.replace(/ seq=\d+$/, '');
    case 'tcp-handshake': {
      const m = /^(.*):\d+>(.*) isn=\d+$/.exec(k);
      return m ? `${m[1]}>${m[2]}` : k;
    }
    case 'dns':
      return k.replace(/ id=\d+ /, ' ');
    case 'dhcp':
      // a client's attempts, whatever transaction id each one took
      return k.replace(/^xid=\S+ /, '');
    default:
      return k;
  }
}

/** Exchanges of one flow with the same verdict, broken in the same place: one table row. */
export interface ExchangeGroup {
  /** the newest exchange of the group (its ladder is shown) */
  latest: ExchangeRecord;
  count: number;
  flow: string;
}

const STATUS_ORDER: Record<ExchangeRecord['status'], number> = {
  lost: 0,
  unanswered: 1,
  error: 2,
  inconclusive: 3,
  ok: 4,
};

export class TuiModel {
  readonly interfaces = new Map<number, InterfaceRow>();
  exchanges: ExchangeRecord[] = [];
  readonly clocks = new Map<string, ClockRecord>();
  summary: SummaryRecord = {
    type: 'summary',
    exchanges: 0,
    ok: 0,
    lost: 0,
    unanswered: 0,
    error: 0,
    inconclusive: 0,
  };
  filter = '';
  /** replay paced to the recording's time: its speed (1 = as recorded); null = as fast as it reads */
  speed: number | null = null;
  /** replay: the time stamp of the last packet read (decimal seconds) */
  position: number | null = null;
  /** replay: the whole recording has been read */
  finished = false;
  /** the view: every kind, or one (the DHCP, DNS and ARP tabs) */
  view: ViewName = 'all';
  paused = false;
  /** bytes written to the recording, updated while recording */
  recordingBytes = 0;
  /** a short message in the header (a recording started or stopped, a key that does nothing here) */
  notice: string | null = null;
  #noticeUntilMs = 0;
  packets = 0;
  packetsPerSecond = 0;
  #lastTickPackets = 0;
  #lastTickMs = 0;
  readonly startedMs: number;

  constructor(
    readonly mode: 'live' | 'replay',
    readonly source: string,
    now = Date.now(),
    public recording: string | null = null,
  ) {
    this.startedMs = now;
    this.#lastTickMs = now;
  }

  addInterface(id: number, label: string): void {
    if (this.interfaces.has(id)) return;
    this.interfaces.set(id, {
      id,
      label,
      state: 'up',
      packets: 0,
      dropped: 0,
      history: [],
      lastTickPackets: 0,
    });
  }

  setState(id: number, state: InterfaceState): void {
    const row = this.interfaces.get(id);
    if (row) row.state = state;
  }

  setDropped(id: number, dropped: number): void {
    const row = this.interfaces.get(id);
    if (row) row.dropped = dropped;
  }

  packet(id: number): void {
    this.packets++;
    const row = this.interfaces.get(id);
    if (row) row.packets++;
  }

  exchange(ex: ExchangeRecord): void {
    this.summary[ex.status]++;
    this.summary.exchanges++;
    this.exchanges.push(ex);
    if (this.exchanges.length > MAX_EXCHANGES) {
      const okAt = this.exchanges.findIndex((e) => e.status === 'ok');
      this.exchanges.splice(okAt >= 0 ? okAt : 0, 1);
    }
  }

  /** Shows `text` in the header for a few seconds. */
  note(text: string, now = Date.now()): void {
    this.notice = text;
    this.#noticeUntilMs = now + NOTICE_MS;
  }

  clock(c: ClockRecord): void {
    this.clocks.set(c.host, c);
  }

  /** Once a second or so: rates for the header and the sparklines. */
  tick(now = Date.now()): void {
    if (this.notice !== null && now >= this.#noticeUntilMs) this.notice = null;
    const seconds = Math.max((now - this.#lastTickMs) / 1000, 1e-3);
    this.packetsPerSecond = (this.packets - this.#lastTickPackets) / seconds;
    this.#lastTickPackets = this.packets;
    this.#lastTickMs = now;
    for (const row of this.interfaces.values()) {
      row.history.push((row.packets - row.lastTickPackets) / seconds);
      row.lastTickPackets = row.packets;
      if (row.history.length > HISTORY) row.history.shift();
    }
  }

  /** The exchanges table: problems first (lost, unanswered, error, inconclusive, ok), newest first within a status. */
  visibleExchanges(): ExchangeRecord[] {
    const f = this.filter.trim().toLowerCase();
    const match = (e: ExchangeRecord): boolean =>
      f === '' ||
      e.status === f ||
      e.kind.includes(f) ||
      e.key.toLowerCase().includes(f) ||
      e.stages.some((s) => s.seen.some((x) => x.iface.toLowerCase().includes(f))) ||
      verdictWords(e).toLowerCase().includes(f);
    const indexed = this.exchanges
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => inView(e, this.view) && match(e));
    indexed.sort((a, b) => STATUS_ORDER[a.e.status] - STATUS_ORDER[b.e.status] || b.i - a.i);
    return indexed.map(({ e }) => e);
  }

  /**
   * The table's rows: visible exchanges grouped by flow, verdict and where they broke
   * (three lost pings of one ping are one row ×3), problems first, newest first.
   */
  visibleGroups(): ExchangeGroup[] {
    const groups = new Map<string, ExchangeGroup>();
    const rows: ExchangeGroup[] = [];
    for (const e of this.visibleExchanges()) {
      const flow = flowOf(e);
      const where = e.status === 'ok' ? '' : verdictWords(e);
      const id = `${e.kind}\u0000${flow}\u0000${e.status}\u0000${where}`;
      const g = groups.get(id);
      // visibleExchanges is newest first within a status: the first one met is the latest.
      if (g !== undefined) g.count++;
      else {
        const row = { latest: e, count: 1, flow };
        groups.set(id, row);
        rows.push(row);
      }
    }
    return rows;
  }
}
