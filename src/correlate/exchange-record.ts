// An exchange's key kept in its row (from the asking packet nearest the asker), and
// its verdict written out as an ExchangeRecord (events/types.ts): stages with
// their sightings in path order, where it was lost, the detail, the RTT, and the key
// as text and as the structured `flow` (its kind's: kinds/kind-spec.ts). Per exchange
// judged, never per packet; nothing here is built for a verdict no sink wants.
import { copyPlainDnsName, readDnsName } from '../decode/dns.js';
import { formatIp, formatMac } from '../decode/format.js';
import { TUNNEL_NAMES } from '../decode/record.js';
import type { ExchangeFlow, ExchangeRecord, StageSighting } from '../events/types.js';
import { formatTimestamp } from '../shared/timestamp-text.js';
import { keyAddrBytes, type Classified } from './classified.js';
import { flowOf, keyTextOf } from './kinds/flow-spec.js';
import type { KeptKey } from './kinds/kind-spec.js';
import { answerStageOf, FLOWS, type Kind, KIND_NAMES, STAGE_NAMES } from './kinds/table.js';
import {
  EX_DOUBLES,
  EX_INTS,
  ExchangeRows,
  ExDouble,
  ExInt,
  KEY_DST_AT,
  KEY_NAME_INLINE,
  KEY_SRC_AT,
  KEY_STRIDE,
} from './tables.js';
import type { RelativeTime } from './relative-time.js';
import type { OrderedStage, Verdict } from './verdict.js';

const NS = 1_000_000_000;

/** Keeps an opening packet's key (Classified's numbers and key bytes) in the exchange's row. */
export function keepKey(X: ExchangeRows, x: number, c: Classified): void {
  const d = x * EX_DOUBLES;
  X.doubles[d + ExDouble.Part0] = c.keyPart0;
  X.doubles[d + ExDouble.Part1] = c.keyPart1;
  X.doubles[d + ExDouble.Part2] = c.keyPart2;
  X.ints[x * EX_INTS + ExInt.Addr] = c.addrVersion | (c.addrKnown << 8);
  X.ints[x * EX_INTS + ExInt.KeyTtl] = c.ttl;
  X.ints[x * EX_INTS + ExInt.NameLen] = c.nameLen;
  const from = c.keySource;
  const to = X.keyBytes;
  const at = x * KEY_STRIDE;
  // The addresses (IPv4: 4 bytes of each 16; a DHCP client's MAC: 6), then the name.
  const addrLen = keyAddrBytes(c.addrVersion);
  if ((c.addrKnown & 1) !== 0)
    for (let i = 0, s = c.keySrcAt; i < addrLen; i++) to[at + KEY_SRC_AT + i] = from[s + i];
  if ((c.addrKnown & 2) !== 0)
    for (let i = 0, s = c.keyDstAt; i < addrLen; i++) to[at + KEY_DST_AT + i] = from[s + i];
  const n = c.nameLen;
  if (n <= KEY_NAME_INLINE) {
    const names = X.nameBytes;
    const nameAt = x * KEY_NAME_INLINE;
    for (let i = 0, s = c.keyNameAt; i < n; i++) names[nameAt + i] = from[s + i];
    if (X.longNames.size > 0) X.longNames.delete(x);
  } else X.longNames.set(x, from, c.keyNameAt, n);
}

/** The key kept in one exchange row, as a kind's `flow` reads it (one view, moved from row to row). */
export class KeptKeyView implements KeptKey {
  #X: ExchangeRows | null = null;
  #x = 0;
  part0 = 0;
  part1 = 0;
  part2 = 0;

  at(X: ExchangeRows, x: number): this {
    this.#X = X;
    this.#x = x;
    const d = x * EX_DOUBLES;
    this.part0 = X.doubles[d + ExDouble.Part0];
    this.part1 = X.doubles[d + ExDouble.Part1];
    this.part2 = X.doubles[d + ExDouble.Part2];
    return this;
  }

  #address(bit: number, at: number): string | null {
    const X = this.#X as ExchangeRows;
    const addr = X.ints[this.#x * EX_INTS + ExInt.Addr];
    if (((addr >>> 8) & bit) === 0) return null;
    return formatIp(X.keyBytes, this.#x * KEY_STRIDE + at, addr & 0xff);
  }

  /** The row's key bytes (what ipv4At's offsets are into). */
  get bytes(): Uint8Array {
    return (this.#X as ExchangeRows).keyBytes;
  }

  /** Where in `bytes` the source (bit 1) or destination (bit 2) address is, when it is a known IPv4 one; else -1. */
  ipv4At(bit: 1 | 2): number {
    const addr = (this.#X as ExchangeRows).ints[this.#x * EX_INTS + ExInt.Addr];
    if (((addr >>> 8) & bit) === 0 || (addr & 0xff) !== 4) return -1;
    return this.#x * KEY_STRIDE + (bit === 1 ? KEY_SRC_AT : KEY_DST_AT);
  }

  src(): string | null {
    return this.#address(1, KEY_SRC_AT);
  }

  dst(): string | null {
    return this.#address(2, KEY_DST_AT);
  }

  mac(): string | null {
    const X = this.#X as ExchangeRows;
    if (((X.ints[this.#x * EX_INTS + ExInt.Addr] >>> 8) & 1) === 0) return null;
    return formatMac(X.keyBytes, this.#x * KEY_STRIDE + KEY_SRC_AT);
  }

  /**
   * The DNS name kept, copied into `out` as its JSON string text when that is its bytes
   * as they are (decode/dns.ts copyPlainDnsName); its length, or -1 when name() must
   * make it (no name, the root, bytes JSON or the name text would escape).
   */
  plainName(out: Uint8Array): number {
    const X = this.#X as ExchangeRows;
    const len = X.ints[this.#x * EX_INTS + ExInt.NameLen];
    if (len <= 0) return -1;
    if (len > KEY_NAME_INLINE) {
      const at = X.longNames.at(this.#x);
      return copyPlainDnsName(X.longNames.bytes, at, at + len, at, out);
    }
    const from = this.#x * KEY_NAME_INLINE;
    return copyPlainDnsName(X.nameBytes, from, from + len, from, out);
  }

  name(): string | null {
    const X = this.#X as ExchangeRows;
    const len = X.ints[this.#x * EX_INTS + ExInt.NameLen];
    if (len <= 0) return null;
    if (len > KEY_NAME_INLINE) {
      const at = X.longNames.at(this.#x);
      return readDnsName(X.longNames.bytes, at, at + len, at);
    }
    const from = this.#x * KEY_NAME_INLINE;
    return readDnsName(X.nameBytes, from, from + len, from);
  }
}

/** How a capture problem reads in a detail. */
function problemText(text: string): string {
  return text === 'gone'
    ? 'was gone'
    : text === 'stopped'
      ? 'had stopped (capture ended before the timeout)'
      : text === 'not running yet'
        ? 'was not running yet'
        : text;
}

/** Writes judged exchanges as records; interface labels by id (the correlator's list, read as it grows). */
export class ExchangeRecordWriter {
  readonly #labels: readonly string[];
  readonly #time: RelativeTime;
  readonly #key = new KeptKeyView();

  constructor(labels: readonly string[], time: RelativeTime) {
    this.#labels = labels;
    this.#time = time;
  }

  /** the whole second relative times count from (the first packet's: the correlator's time) */
  get baseSec(): number {
    return this.#time.baseSec;
  }

  /** Decimal seconds with nanosecond digits, from relative ns. */
  tsText(rel: number): string {
    if (!Number.isFinite(rel)) return '0.000000000';
    const r = Math.round(rel);
    const whole = Math.floor(r / NS);
    return formatTimestamp(this.baseSec + whole, r - whole * NS);
  }

  /** Interface `iface`'s label (`#id` for one never announced). */
  label(iface: number): string {
    return this.#labels[iface] ?? `#${iface}`;
  }

  /** The label of the last interface that saw a lost packet, as the record's `lost.lastSeen` has it. */
  lastSeenLabel(iface: number | null): string | null {
    return iface === null ? null : (this.#labels[iface] ?? null);
  }

  /** Exchange x's `flow`: its kind's, from the key kept in its row. */
  flow(X: ExchangeRows, x: number, kind: Kind): ExchangeFlow {
    return flowOf(FLOWS[kind], this.#key.at(X, x));
  }

  /** The key kept in exchange x's row, as its kind's flow reads it (one view, moved by the next call). */
  keptKey(X: ExchangeRows, x: number): KeptKeyView {
    return this.#key.at(X, x);
  }

  /** The record's `detail`: the verdict's, else an ICMP error about the answer, else the capture problems. */
  detail(X: ExchangeRows, x: number, kind: Kind, verdict: Verdict): string | undefined {
    if (verdict.detail !== null) return verdict.detail;
    if (X.ints[x * EX_INTS + ExInt.AnswerError] !== 0 && verdict.status !== 'ok') {
      return `${X.answerError[x]} (an ICMP error about the ${STAGE_NAMES[kind][answerStageOf(kind)]})`;
    }
    if (verdict.problems.length > 0) {
      return verdict.problems
        .map((p) => `capture on ${this.label(p.iface)} ${problemText(p.text)}`)
        .join('; ');
    }
    return undefined;
  }

  /** The record of exchange x of `kind`, judged `verdict` from its ordered `stages`. */
  record(
    X: ExchangeRows,
    x: number,
    kind: Kind,
    stages: ReadonlyArray<OrderedStage | undefined>,
    verdict: Verdict,
  ): ExchangeRecord {
    const names = STAGE_NAMES[kind];
    const flow = this.flow(X, x, kind);
    const record: ExchangeRecord = {
      type: 'exchange',
      kind: KIND_NAMES[kind],
      key: keyTextOf(FLOWS[kind], flow),
      flow,
      status: verdict.status,
      ts: this.tsText(firstTime(stages)),
      stages: [],
    };
    // Plain loops: with the TUI or --json every verdict becomes a record.
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      const seen: StageSighting[] = new Array<StageSighting>(s.ifaces.length);
      for (let j = 0; j < s.ifaces.length; j++) {
        const sighting: StageSighting = { iface: this.label(s.ifaces[j]), ts: this.tsText(s.times[j]) };
        if (j > 0) sighting.hopMs = hopMs(s.times[j - 1], s.times[j]);
        const tun = s.tunnels[j];
        if (tun >= 0) sighting.tunnel = { type: tunnelName(tun), vni: tun & 0xffffff };
        seen[j] = sighting;
      }
      record.stages.push({ name: names[i], packets: s.packets, seen });
    }
    if (verdict.lost !== null) {
      record.lost = {
        stage: names[verdict.lost.stage],
        lastSeen: this.lastSeenLabel(verdict.lost.lastSeen),
        missingOn: verdict.lost.missingOn.map((i) => this.label(i)),
      };
    }
    const detail = this.detail(X, x, kind, verdict);
    if (detail !== undefined) record.detail = detail;
    if (verdict.rttNs !== null) record.rttMs = rttMs(verdict.rttNs);
    return record;
  }
}

/** The exchange's first packet's relative ns: the earliest first sighting of its stages (+∞ when none). */
export function firstTime(stages: ReadonlyArray<OrderedStage | undefined>): number {
  let first = Number.POSITIVE_INFINITY;
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i];
    if (s !== undefined && s.times.length > 0 && s.times[0] < first) first = s.times[0];
  }
  return first;
}

/** A sighting's `hopMs`: ms since the sighting before it, to the µs. */
export function hopMs(before: number, at: number): number {
  return hopUs(before, at) / 1e3;
}

/** hopMs in whole µs (what the JSON writer writes as thousandths). */
export function hopUs(before: number, at: number): number {
  return Math.round((at - before) / 1e3);
}

/** The record's `rttMs`, to the µs. */
export function rttMs(rttNs: number): number {
  return rttUs(rttNs) / 1e3;
}

/** rttMs in whole µs. */
export function rttUs(rttNs: number): number {
  return Math.round(rttNs / 1e3);
}

/** A sighting's tunnel type, from the correlator's tunnel word (type << 24 | VNI). */
export function tunnelName(tun: number): string {
  return TUNNEL_NAMES[tun >>> 24] ?? 'tunnel';
}
