// The drops the tracer reported lately, kept as the tracer's raw records in one
// ring (no object per drop): a verdict comes up to a few seconds after its packet
// died, so the drops of that window must still be here then. Bounded: the newest
// `capacity` records (default 65 536, 5.8 MB); under a flood of drops the oldest go
// first, and a query says when its window reaches back before what is kept.
import type { ExchangePacket } from '../context.js';
import { isSamePacket } from '../packet-fields.js';
import { decodeDrop, DROP_RECORD_BYTES, DropField, DropFlag, type KernelDrop } from './drop-record.js';

export const DROP_STORE_DEFAULTS = { capacity: 65_536 } as const;

export interface DropQuery {
  /** namespace inodes to look in */
  netns: ReadonlySet<number>;
  startNs: bigint;
  endNs: bigint;
  /** the missing packet; null: time-matched drops only */
  packet: ExchangePacket | null;
}

export interface DropQueryResult {
  /** drops whose fields are the packet's */
  byPacket: KernelDrop[];
  /** other drops of those namespaces in the window, at most `limit` */
  byTime: KernelDrop[];
  /** the window starts before the oldest record kept (some of its drops may be gone) */
  truncated: boolean;
}

const NS = 1_000_000_000n;
/** Word indexes of a record's fields read on every record (host order, as the addon writes them). */
const WORD_TS_SEC = DropField.TsSec >>> 2;
const WORD_TS_NSEC = DropField.TsNsec >>> 2;
const WORD_NETNS = DropField.Netns >>> 2;
/** Byte offsets read inline by the query's loop. */
const IP_PROTO = DropField.IpProto;
const IP_ID = DropField.IpId;
const SPORT = DropField.Sport;
const DPORT = DropField.Dport;

export class DropStore {
  readonly #capacity: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** the same bytes as host-order words (a record is DROP_RECORD_BYTES / 4 of them) */
  readonly #words: Uint32Array;
  /** next slot to write */
  #next = 0;
  /** records held (≤ capacity) */
  #held = 0;
  /** records that were overwritten before a query could see them, all time */
  #overwritten = 0;
  /** a query's namespace inodes (#netnsOf) */
  #netnsScratch = new Float64Array(8);
  /**
   * Per slot, the fields most records are turned away by, side by side (256 KiB each
   * for 65 536 records, where the records are 5.8 MB): (IP protocol << 16) | IP id,
   * and (source port << 16) | destination port. A query over a flood of other packets'
   * drops reads these instead of every record — the walk was bound by memory, ~7 ns a
   * record.
   */
  readonly #idKeys: Uint32Array;
  readonly #portKeys: Uint32Array;

  constructor(capacity: number = DROP_STORE_DEFAULTS.capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`drop store capacity ${capacity}`);
    this.#capacity = capacity;
    this.#bytes = new Uint8Array(capacity * DROP_RECORD_BYTES);
    this.#view = new DataView(this.#bytes.buffer);
    this.#words = new Uint32Array(this.#bytes.buffer);
    this.#idKeys = new Uint32Array(capacity);
    this.#portKeys = new Uint32Array(capacity);
  }

  get size(): number {
    return this.#held;
  }

  get overwritten(): number {
    return this.#overwritten;
  }

  /**
   * Copies `count` records from a tracer batch: in at most two runs (the ring's end,
   * then its start), no view made per record — under a flood this runs per drop. Of a
   * batch larger than the ring, only its newest `capacity` records can be kept.
   */
  push(batch: ArrayBuffer, count: number): void {
    const cap = this.#capacity;
    const skipped = count > cap ? count - cap : 0;
    let from = skipped;
    while (from < count) {
      const run = Math.min(count - from, cap - this.#next);
      this.#bytes.set(
        new Uint8Array(batch, from * DROP_RECORD_BYTES, run * DROP_RECORD_BYTES),
        this.#next * DROP_RECORD_BYTES,
      );
      this.#keyRecords(this.#next, run);
      this.#next = (this.#next + run) % cap;
      from += run;
    }
    const room = cap - this.#held;
    const added = count - skipped;
    this.#held += Math.min(room, added);
    this.#overwritten += skipped + Math.max(0, added - room);
  }

  /** Fills the compact keys of `count` records from `slot` on (little-endian fields, as the addon writes them). */
  #keyRecords(slot: number, count: number): void {
    const b = this.#bytes;
    const idKeys = this.#idKeys;
    const portKeys = this.#portKeys;
    for (let s = slot, end = slot + count; s < end; s++) {
      const at = s * DROP_RECORD_BYTES;
      idKeys[s] = (b[at + IP_PROTO] << 16) | b[at + IP_ID] | (b[at + IP_ID + 1] << 8);
      portKeys[s] =
        ((b[at + SPORT] | (b[at + SPORT + 1] << 8)) << 16) | b[at + DPORT] | (b[at + DPORT + 1] << 8);
    }
  }

  /** The namespaces of a query as numbers in a typed array (grown, never made per query). */
  #netnsOf(set: ReadonlySet<number>): Float64Array {
    if (this.#netnsScratch.length < set.size) this.#netnsScratch = new Float64Array(set.size * 2);
    let i = 0;
    for (const inode of set) this.#netnsScratch[i++] = inode;
    return this.#netnsScratch;
  }

  query(q: DropQuery, limit = 16): DropQueryResult {
    const result: DropQueryResult = { byPacket: [], byTime: [], truncated: false };
    const startSec = Number(q.startNs / NS);
    const startNsec = Number(q.startNs % NS);
    const endSec = Number(q.endNs / NS);
    const endNsec = Number(q.endNs % NS);
    const v = this.#view;
    const words = this.#words;
    const packet = q.packet;
    const oldest = (this.#next - this.#held + this.#capacity) % this.#capacity;
    const bytes = this.#bytes;
    const idKeys = this.#idKeys;
    const portKeys = this.#portKeys;
    // What the compact keys must hold for mayBeSamePacket to accept a record (-1: not
    // compared). Each is implied by its rules: an ARP record is never a packet of
    // another family, an IP record must have the packet's protocol, its IP id when an
    // IPv4 packet's is known; without one, both ports (UDP of unknown length, TCP of
    // unknown sequence) or an ICMP sequence in the destination port's place.
    let wantIdKey = -1;
    let wantProto = -1;
    let wantPorts = -1;
    let wantDport = -1;
    if (packet !== null && packet.family !== 'arp') {
      if (packet.family === 4 && packet.ipId !== null) wantIdKey = ((packet.proto << 16) | packet.ipId) >>> 0;
      else {
        wantProto = packet.proto;
        if (
          packet.sport !== null &&
          packet.dport !== null &&
          ((packet.proto === 17 && packet.ipLength <= 0) || (packet.proto === 6 && packet.tcpSeq === null))
        )
          wantPorts = ((packet.sport << 16) | packet.dport) >>> 0;
        else if ((packet.proto === 1 || packet.proto === 58) && packet.icmpSeq !== null)
          wantDport = packet.icmpSeq;
      }
    }
    // Live, a burst of verdicts queries one after another on the event loop, each over
    // every record a flood left (65 536): the cheapest tests come first — once `byTime`
    // is full (at once when no time-matched drops are asked for), the compact keys,
    // then the time, then whether the record may be the packet at all — and the
    // namespaces are compared only for records that pass them. They are compared as
    // numbers in a typed array: an inode above 2^31 is no small integer to V8, and a
    // Set asked for it hashes a heap number — when the flood's drops are in another
    // namespace than the one asked for, that was most of a query's time.
    const netns = this.#netnsOf(q.netns);
    const netnsCount = q.netns.size;
    const held = this.#held;
    const capacity = this.#capacity;
    // the oldest record kept is past the window's start: some of the window's drops were written over
    if (held > 0 && this.#overwritten > 0) {
      const w = (oldest * DROP_RECORD_BYTES) >>> 2;
      const sec = words[w + WORD_TS_SEC];
      if (sec > startSec || (sec === startSec && words[w + WORD_TS_NSEC] > startNsec))
        result.truncated = true;
    }
    // A record in the window and the namespaces: the packet's drop, or (while fewer
    // than `limit`) another drop of that time.
    const consider = (slot: number, timeFull: boolean): void => {
      const at = slot * DROP_RECORD_BYTES;
      const w = at >>> 2;
      const sec = words[w + WORD_TS_SEC];
      const nsec = words[w + WORD_TS_NSEC];
      if (sec < startSec || (sec === startSec && nsec < startNsec)) return;
      if (sec > endSec || (sec === endSec && nsec > endNsec)) return;
      if (timeFull && packet !== null && !mayBeSamePacket(bytes, v, at, packet)) return;
      const inode = words[w + WORD_NETNS];
      let i = 0;
      while (i < netnsCount && netns[i] !== inode) i++;
      if (i === netnsCount) return;
      // Most drops in a window are other packets' (a flood to a closed port is 150k a
      // second): only a record whose raw fields may be the packet's is decoded and compared.
      if (packet !== null && (timeFull || mayBeSamePacket(bytes, v, at, packet))) {
        const drop = decodeDrop(bytes, v, at);
        if (isSamePacket(drop, packet)) result.byPacket.push(drop);
        else if (result.byTime.length < limit) result.byTime.push(drop);
      } else if (result.byTime.length < limit) result.byTime.push(decodeDrop(bytes, v, at));
    };
    // Every record, oldest first, until `limit` time-matched drops are found ...
    let k = 0;
    let slot = oldest;
    for (; k < held && result.byTime.length < limit; k++) {
      consider(slot, false);
      if (++slot === capacity) slot = 0;
    }
    if (packet === null) return result;
    // ... then only those whose compact keys may be the packet's: the ring's end, then its start.
    const left = held - k;
    const tail = Math.min(left, capacity - slot);
    for (let run = 0; run < 2; run++) {
      const from = run === 0 ? slot : 0;
      const to = run === 0 ? slot + tail : left - tail;
      if (wantIdKey >= 0) {
        for (let cur = from; cur < to; cur++) if (idKeys[cur] === wantIdKey) consider(cur, true);
      } else if (wantProto >= 0) {
        for (let cur = from; cur < to; cur++) {
          if (idKeys[cur] >>> 16 !== wantProto) continue;
          if (wantPorts >= 0 && portKeys[cur] !== wantPorts) continue;
          if (wantDport >= 0 && (portKeys[cur] & 0xffff) !== wantDport) continue;
          consider(cur, true);
        }
      } else for (let cur = from; cur < to; cur++) consider(cur, true);
    }
    return result;
  }
}

/**
 * False when the record at `at` cannot be `packet` by isSamePacket's rules, read from its
 * raw bytes (no decoding, no strings): every field isSamePacket requires to be equal but
 * the addresses — the kind of packet (ARP, IPv4, IPv6), the IP protocol, an IPv4 packet's
 * IP id, and the transport's fields it compares (ICMP type and sequence, TCP sequence or
 * ports, UDP length or ports), as isSamePacket chooses them. True: decode it and ask
 * isSamePacket.
 */
export function mayBeSamePacket(bytes: Uint8Array, v: DataView, at: number, packet: ExchangePacket): boolean {
  const flags = bytes[at + DropField.Flags];
  if ((flags & DropFlag.Arp) !== 0)
    return packet.family === 'arp' && bytes[at + DropField.IcmpType] === packet.icmpType;
  if (packet.family === 'arp') return false;
  if (bytes[at + DropField.IpProto] !== packet.proto) return false;
  const v4 = v.getUint16(at + DropField.L3proto, true) === 0x0800 || (flags & DropFlag.Inner) !== 0;
  if (packet.family === 4) {
    if (!v4) return false;
    if (packet.ipId !== null && v.getUint16(at + DropField.IpId, true) !== packet.ipId) return false;
  } else if (v4 || (flags & DropFlag.Ipv6) === 0) return false;
  if ((flags & DropFlag.L4) === 0) return packet.family === 4 && packet.ipId !== null;
  const sport = v.getUint16(at + DropField.Sport, true);
  const dport = v.getUint16(at + DropField.Dport, true);
  switch (packet.proto) {
    case 1:
    case 58:
      return (
        bytes[at + DropField.IcmpType] === packet.icmpType &&
        (packet.icmpSeq === null || dport === packet.icmpSeq)
      );
    case 6:
      return packet.tcpSeq !== null
        ? v.getUint32(at + DropField.TcpSeq, true) === packet.tcpSeq
        : sport === packet.sport && dport === packet.dport;
    case 17:
      return packet.ipLength > 0
        ? v.getUint16(at + DropField.IpLen, true) === packet.ipLength
        : sport === packet.sport && dport === packet.dport;
    default:
      return packet.ipId !== null;
  }
}
