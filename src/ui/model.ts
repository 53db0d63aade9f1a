// What the terminal UI shows, as plain state fed by the same events as the other sinks
// (interfaces, states, counters, packets, exchanges, clocks) and read by the pure
// render functions (render.ts). No blessed here: the tests drive it directly.
import type { ClockRecord, ExchangeRecord, InterfaceState, SummaryRecord } from '../events/types.js';
import { verdictWords } from '../sinks/exchange-text.js';

/** Exchanges kept for the table; beyond, the oldest ok ones go first. */
const MAX_EXCHANGES = 5000;
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

  clock(c: ClockRecord): void {
    this.clocks.set(c.host, c);
  }

  /** Once a second or so: rates for the header and the sparklines. */
  tick(now = Date.now()): void {
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
}
