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

  constructor(capacity: number = DROP_STORE_DEFAULTS.capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`drop store capacity ${capacity}`);
    this.#capacity = capacity;
    this.#bytes = new Uint8Array(capacity * DROP_RECORD_BYTES);
    this.#view = new DataView(this.#bytes.buffer);
    this.#words = new Uint32Array(this.#bytes.buffer);
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
      this.#next = (this.#next + run) % cap;
      from += run;
    }
    const room = cap - this.#held;
    const added = count - skipped;
    this.#held += Math.min(room, added);
    this.#overwritten += skipped + Math.max(0, added - room);
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
    // the two fields mayBeSamePacket rejects most records by, read inline: an IP
    // packet's protocol, and an IPv4 packet's id (-1: not compared)
    const bytes = this.#bytes;
    const wantProto = packet === null || packet.family === 'arp' ? -1 : packet.proto;
    const wantIpId = packet !== null && packet.family === 4 && packet.ipId !== null ? packet.ipId : -1;
    // Live, a burst of verdicts queries one after another on the event loop, each over
    // every record a flood left (65 536): the cheapest tests come first — the time, then,
    // once `byTime` is full, whether the record may be the packet at all — and the
    // namespace set is asked only of records that pass them.
    let slot = oldest;
    for (let k = 0; k < this.#held; k++, slot = slot + 1 === this.#capacity ? 0 : slot + 1) {
      const at = slot * DROP_RECORD_BYTES;
      const w = at >>> 2;
      const sec = words[w + WORD_TS_SEC];
      const nsec = words[w + WORD_TS_NSEC];
      if (k === 0 && this.#overwritten > 0 && (sec > startSec || (sec === startSec && nsec > startNsec)))
        result.truncated = true;
      if (sec < startSec || (sec === startSec && nsec < startNsec)) continue;
      if (sec > endSec || (sec === endSec && nsec > endNsec)) continue;
      const timeFull = result.byTime.length >= limit;
      if (timeFull) {
        if (packet === null) continue;
        if (wantProto >= 0 && bytes[at + DropField.IpProto] !== wantProto) continue;
        if (
          wantIpId >= 0 &&
          (bytes[at + DropField.IpId] | (bytes[at + DropField.IpId + 1] << 8)) !== wantIpId
        )
          continue;
        if (!mayBeSamePacket(bytes, v, at, packet)) continue;
      }
      if (!q.netns.has(words[w + WORD_NETNS])) continue;
      // Most drops in a window are other packets' (a flood to a closed port is 150k a
      // second): only a record whose raw fields may be the packet's is decoded and compared.
      if (packet !== null && (timeFull || mayBeSamePacket(this.#bytes, v, at, packet))) {
        const drop = decodeDrop(this.#bytes, v, at);
        if (isSamePacket(drop, packet)) {
          result.byPacket.push(drop);
          continue;
        }
        if (result.byTime.length < limit) result.byTime.push(drop);
      } else if (result.byTime.length < limit) result.byTime.push(decodeDrop(this.#bytes, v, at));
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
