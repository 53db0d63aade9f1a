// What the terminal UI shows, as plain state fed by the same events as the other sinks
// (interfaces, states, counters, packets, exchanges, clocks) and read by the pure
// render functions (render.ts). No blessed here: the tests drive it directly.
import type { ClockRecord, ExchangeRecord, InterfaceState, SummaryRecord } from '../events/types.js';
import { verdictWords } from '../sinks/exchange-text.js';

/** Exchanges kept for the table; beyond, the oldest ok ones go first. */
const MAX_EXCHANGES = 5000;
/** ok verdicts a second that become table rows; problems are never limited. */
const OK_RECORDS_PER_SECOND = 500;
/** Exchanges beyond the bound before trimming (in batches: no per-exchange shifting). */
const TRIM_BATCH = 500;
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
  // icmp-echo, icmpv6-echo, icmp-timestamp, …
  if (view === 'icmp') return e.kind.startsWith('icmp');
  if (view === 'tcp') return e.kind === 'tcp-handshake';
  return e.kind === view;
}

/**
 * The flow an exchange belongs to, from its structured flow: the same pinged address,
 * connection target, query or client without the per-exchange identifiers (ICMP id and
 * sequence number, source port and ISN, query id, transaction id). Each `ping` run takes
 * an id of its own: five runs that die at the same hop are one flow (one row, ×15). By
 * the flow's shape (events/types.ts ExchangeFlow), so a kind of an existing shape needs
 * nothing here.
 */
export function flowOf(e: ExchangeRecord): string {
  const f = e.flow;
  if ('seq' in f) return `${addr(f.src)}>${addr(f.dst)}`;
  if ('isn' in f) return `${addr(f.src)}>${addr(f.dst)}:${f.dport}`;
  if ('qname' in f) return `${addr(f.src)}>${addr(f.dst)} ${f.qname ?? '?'} ${f.qtype}`;
  // a client's attempts, whatever transaction id each one took
  if ('xid' in f) return `chaddr=${f.chaddr ?? '?'}`;
  if ('sender' in f) return `who-has ${addr(f.target)} tell ${addr(f.sender)}`;
  const shape: never = f;
  return shape;
}

function addr(a: string | null): string {
  return a ?? '?';
}

/** Exchanges of one flow with the same verdict, broken in the same place: one table row. */
export interface ExchangeGroup {
  /** the newest exchange of the group (its ladder is shown) */
  latest: ExchangeRecord;
  count: number;
  flow: string;
}

/** The table's order of statuses: problems first. */
export const STATUSES: ReadonlyArray<ExchangeRecord['status']> = [
  'lost',
  'unanswered',
  'error',
  'inconclusive',
  'ok',
];

export class TuiModel {
  readonly interfaces = new Map<number, InterfaceRow>();
  exchanges: ExchangeRecord[] = [];
  /** ok verdicts counted but not listed (beyond OK_RECORDS_PER_SECOND) */
  okNotListed = 0;
  #okSecond = -1;
  #okThisSecond = 0;
  /** by exchange (parallel to `exchanges`): its flow, and the row it groups into */
  #flows: string[] = [];
  #groupIds: string[] = [];
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

  /**
   * For the correlator: whether a verdict of this status should become a record for the
   * table. Problems always do; ok ones up to OK_RECORDS_PER_SECOND (building a record per
   * verdict is most of what the TUI costs at tens of thousands of exchanges a second) —
   * the others are counted in the header and said to be unlisted.
   */
  wants(status: ExchangeRecord['status'], now = Date.now()): boolean {
    if (status !== 'ok') return true;
    const second = Math.floor(now / 1000);
    if (second !== this.#okSecond) {
      this.#okSecond = second;
      this.#okThisSecond = 0;
    }
    if (this.#okThisSecond < OK_RECORDS_PER_SECOND) {
      this.#okThisSecond++;
      return true;
    }
    // counted here, as exchange() counts the listed ones
    this.okNotListed++;
    this.summary.ok++;
    this.summary.exchanges++;
    return false;
  }

  exchange(ex: ExchangeRecord): void {
    this.summary[ex.status]++;
    this.summary.exchanges++;
    this.exchanges.push(ex);
    const flow = flowOf(ex);
    this.#flows.push(flow);
    this.#groupIds.push(
      `${ex.kind}\u0000${flow}\u0000${ex.status}\u0000${ex.status === 'ok' ? '' : verdictWords(ex)}`,
    );
    if (this.exchanges.length > MAX_EXCHANGES + TRIM_BATCH) this.#trim();
  }

  /** Back to MAX_EXCHANGES in one pass: the oldest ok exchanges go first, then the oldest. */
  #trim(): void {
    let excess = this.exchanges.length - MAX_EXCHANGES;
    const keep: number[] = [];
    for (let i = 0; i < this.exchanges.length; i++) {
      if (excess > 0 && this.exchanges[i].status === 'ok') excess--;
      else keep.push(i);
    }
    if (excess > 0) keep.splice(0, excess);
    this.exchanges = keep.map((i) => this.exchanges[i]);
    this.#flows = keep.map((i) => this.#flows[i]);
    this.#groupIds = keep.map((i) => this.#groupIds[i]);
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
    return this.#visible().map((i) => this.exchanges[i]);
  }

  /** Indexes of the exchanges shown, in table order: a pass per status, newest first (no sort). */
  #visible(): number[] {
    const f = this.filter.trim().toLowerCase();
    const match = (e: ExchangeRecord): boolean =>
      f === '' ||
      e.status === f ||
      e.kind.includes(f) ||
      e.key.toLowerCase().includes(f) ||
      e.stages.some((s) => s.seen.some((x) => x.iface.toLowerCase().includes(f))) ||
      verdictWords(e).toLowerCase().includes(f);
    const all = this.exchanges;
    const shown: number[] = [];
    for (const status of STATUSES) {
      for (let i = all.length - 1; i >= 0; i--) {
        const e = all[i];
        if (e.status === status && inView(e, this.view) && match(e)) shown.push(i);
      }
    }
    return shown;
  }

  /**
   * The table's rows: visible exchanges grouped by flow, verdict and where they broke
   * (three lost pings of one ping are one row ×3), problems first, newest first. Each
   * exchange's group is worked out once, when it arrives (this runs at every redraw).
   */
  visibleGroups(): ExchangeGroup[] {
    const groups = new Map<string, ExchangeGroup>();
    const rows: ExchangeGroup[] = [];
    for (const i of this.#visible()) {
      const e = this.exchanges[i];
      const id = this.#groupIds[i];
      const g = groups.get(id);
      // newest first within a status: the first one met is the latest.
      if (g !== undefined) g.count++;
      else {
        const row = { latest: e, count: 1, flow: this.#flows[i] };
        groups.set(id, row);
        rows.push(row);
      }
    }
    return rows;
  }
}
