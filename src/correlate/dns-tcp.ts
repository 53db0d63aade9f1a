// DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8): which bytes of a TCP stream on port 53
// begin DNS messages, so that each message becomes a `dns` query or response exactly
// as one over UDP does (classifyDnsMessage). On the wire a message is a 2-byte length
// then the message; a segment may hold several (pipelining, RFC 7766 §6.2.1.1), the
// end of one and the start of the next, or a piece of one.
//
// A segment's bytes are read as messages only from a place known to begin one:
// - the flow direction is followed (its state below): the bytes at the sequence number
//   it expects next continue where the last segment stopped — inside a message, in its
//   length prefix, or at the next message;
// - otherwise (capture started mid-connection, state evicted, a segment missed) the
//   segment's first bytes must be a whole message that decodes without an anomaly, or
//   the start of a longer one whose header and question are all there and read as a
//   standard query's or answer's (#plausibleStart); its length then places the next
//   one. A continuation segment does not pass that: it makes nothing.
// A SYN or SYN-ACK starts following its direction at ISN + 1; a FIN or RST ends it.
//
// Reassembly: a message that does not end in the segment where it begins is completed
// by the following segments and counts at the segment that completes it (its time
// stamp is the message's, as in tshark with reassembly on). Of such a message the
// first DNS_TCP_KEPT_BYTES are kept — the header and question always fit — and the
// rest only counted: a longer message is judged from that much (its later records are
// not checked). A length prefix of up to 65535 bytes that never arrive costs that
// much counting and no more memory.
//
// Sequence numbers: a segment that starts before the expected one holds a
// retransmission — old bytes, read as a flow not followed would be (a whole message at
// its start is the same message again, and the same packet: classifyDnsMessage's
// fingerprint) — or old then new bytes (the new part continues). One that starts after it means a
// segment was not captured: the direction is no longer followed until a segment
// begins with a whole message again. A segment the capture cut short (snaplen, a first
// IP fragment) gives the messages it holds whole; the direction is then forgotten.
//
// Bounds: DNS_TCP_MAX_FLOWS flow directions, per interface (the same connection on
// three interfaces is six); beyond, the least recently active one is forgotten
// (counted in `evicted`). DNS_TCP_KEPT_BYTES per flow direction for a message in
// reassembly. State lives in typed arrays allocated once: following a message in one
// segment (the common case) allocates and copies nothing — one lookup of its flow (of
// classify's address hashes), and the DNS fields the packet's own decode found.
import { TCP_FIN, TCP_RST, TCP_SYN } from '../decode/tcp.js';
import { DNS_CLASS_IN, decodeDns, decodeDnsPrefix, DNS_HEADER_LEN } from '../decode/dns.js';
import { Layer, PacketRecord, UNSIGNED_32 } from '../decode/record.js';
import { classifyDnsMessage, tunnelOf } from './classify.js';
import type { Classified } from './classified.js';
import { finish, HASH_SEED, mix } from './hash.js';

/** Flow directions followed at once (interface, addresses, ports, tunnel), the least recently active forgotten first. */
export const DNS_TCP_MAX_FLOWS = 4096;
/** Bytes of one message kept per flow direction while it is reassembled (a header and question fit in 271). */
export const DNS_TCP_KEPT_BYTES = 512;

const DNS_PORT = 53;
/** The header's Z bit (RFC 1035 §4.1.1: zero); question classes in use (RFC 1035 §3.2.4, §3.2.5). */
const DNS_FLAG_Z = 0x0040;
const DNS_CLASS_CH = 3;
const DNS_CLASS_HS = 4;
const DNS_CLASS_ANY = 255;
/** Address bytes per flow: source then destination, 16 each (IPv4 uses the first 4 of each). */
const ADDR_BYTES = 32;

/** A flow direction's numbers, one row of FLOW_INTS. */
const enum Fl {
  Iface = 0,
  Tunnel = 1,
  /** (source port << 16) | destination port */
  Ports = 2,
  Version = 3,
  /** the row's hash (its bucket), and the next row of the bucket (-1: none) */
  Hash = 4,
  Chain = 5,
  /** the least-recently-active list: the row active before / after this one (-1: none) */
  Older = 6,
  Newer = 7,
  /** the sequence number expected next (as int32) */
  Next = 8,
  /** the message in reassembly: its length (-1: at a message boundary), bytes received, the sequence number of its length prefix */
  MsgLen = 9,
  Got = 10,
  MsgSeq = 11,
  /** the first byte of a length prefix whose second byte is in the next segment (-1: none) */
  LenByte = 12,
}
const FLOW_INTS = 16;

export class DnsTcpStreams {
  readonly #maxFlows: number;
  readonly #kept: number;
  readonly #ints: Int32Array;
  readonly #addrs: Uint8Array;
  /** per row: the key's addresses (copied when a message completes here), then the message's first bytes */
  readonly #messages: Uint8Array;
  readonly #buckets: Int32Array;
  readonly #mask: number;
  /** rows never used yet start at #used; freed rows wait on a stack */
  readonly #free: Int32Array;
  #freeTop = 0;
  #used = 0;
  #live = 0;
  #newest = -1;
  #oldest = -1;
  #evicted = 0;
  /** a message not decoded by the packet's own decode (decodePacket decodes only what a segment begins with) */
  readonly #msg = new PacketRecord();

  // The segment being read (segment() … next() until it returns false).
  #rec: PacketRecord = this.#msg;
  #iface = 0;
  #tunnel = -1;
  /** classify()'s hashes of the segment's addresses (the flow's hash is made of them) */
  #srcHash = 0;
  #dstHash = 0;
  #row = -1;
  /** whether #p is known to be where a message, its prefix or its rest begins */
  #trusted = false;
  /** whether the flow's state may be written (false for a segment of old bytes) */
  #writes = false;
  #p = 0;
  /** the payload's first byte and its sequence number (see UNSIGNED_32); one past the last captured byte */
  #payloadOff = 0;
  #seq = UNSIGNED_32;
  #end = 0;
  /** the whole segment was captured (not cut by snaplen, not a first fragment) */
  #whole = false;
  #fin = false;
  #done = true;

  constructor(maxFlows = DNS_TCP_MAX_FLOWS, keptBytes = DNS_TCP_KEPT_BYTES) {
    this.#maxFlows = maxFlows;
    this.#kept = keptBytes;
    this.#ints = new Int32Array(maxFlows * FLOW_INTS);
    this.#addrs = new Uint8Array(maxFlows * ADDR_BYTES);
    // (pages of rows never used are never touched: address space, not memory)
    this.#messages = new Uint8Array(maxFlows * (ADDR_BYTES + keptBytes));
    let buckets = 16;
    while (buckets < 2 * maxFlows) buckets *= 2;
    this.#buckets = new Int32Array(buckets).fill(-1);
    this.#mask = buckets - 1;
    this.#free = new Int32Array(maxFlows);
    this.#seq = 0;
  }

  /** Flow directions forgotten because DNS_TCP_MAX_FLOWS were followed already. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Flow directions followed now. */
  get flows(): number {
    return this.#live;
  }

  /**
   * Starts reading the DNS messages of the segment in `rec` (decoded; `c` holds
   * classify()'s result for it), seen on `iface`: true when next() may find any.
   * Anything but TCP to or from port 53 costs one test.
   */
  segment(rec: PacketRecord, c: Classified, iface: number): boolean {
    if (rec.ipProto !== 6 || (rec.srcPort !== DNS_PORT && rec.dstPort !== DNS_PORT)) return false;
    if (rec.payloadOff < 0 || rec.srcAddrOff < 0 || rec.dstAddrOff < 0 || rec.laterFragment) return false;
    const flags = rec.tcpFlags;
    this.#rec = rec;
    this.#iface = iface;
    this.#tunnel = tunnelOf(rec);
    this.#srcHash = c.srcHash;
    this.#dstHash = c.dstHash;
    if ((flags & TCP_RST) !== 0) {
      // the connection is over, both ways
      this.#forget(this.#find(false));
      this.#forget(this.#find(true));
      return false;
    }
    const ints = this.#ints;
    this.#payloadOff = rec.payloadOff;
    this.#p = rec.payloadOff;
    this.#end = rec.payloadOff + rec.payloadLen;
    // every byte of the segment is here: not cut by the capture, not a first fragment,
    // not shorter than its IP header says (a DNS or TCP option anomaly leaves the bytes whole)
    const malformed = rec.malformedLayer;
    this.#whole =
      !rec.truncated &&
      !rec.moreFragments &&
      (malformed === Layer.None || malformed === Layer.Tcp || malformed === Layer.Dns);
    this.#fin = (flags & TCP_FIN) !== 0;
    this.#done = false;
    let row = this.#find(false);
    if ((flags & TCP_SYN) !== 0) {
      // the first byte after the SYN begins the stream (and a message)
      this.#seq = (rec.tcpSeq + 1) >>> 0;
      if (row < 0) row = this.#open();
      else this.#touch(row);
      const i = row * FLOW_INTS;
      ints[i + Fl.Next] = this.#seq | 0;
      ints[i + Fl.MsgLen] = -1;
      ints[i + Fl.LenByte] = -1;
      this.#row = row;
      this.#trusted = true;
      this.#writes = true;
      return true;
    }
    this.#seq = rec.tcpSeq;
    this.#row = -1;
    this.#trusted = false;
    this.#writes = true;
    if (row >= 0) {
      const i = row * FLOW_INTS;
      const ahead = (this.#seq - ints[i + Fl.Next]) | 0;
      if (ahead === 0) {
        this.#row = row;
        this.#trusted = true;
      } else if (ahead < 0 && rec.payloadLen + ahead <= 0) {
        // only old bytes: read as if the flow were not followed, and change nothing
        this.#writes = false;
      } else if (ahead < 0) {
        // old bytes, then new ones: the new ones continue the stream
        this.#p -= ahead;
        this.#row = row;
        this.#trusted = true;
      } else {
        // bytes were missed: no longer known where messages begin
        this.#forget(row);
      }
      if (this.#row >= 0) this.#touch(row);
    }
    return true;
  }

  /**
   * The next DNS message of the segment, classified into `out` (segment()'s `c`: its
   * address hashes are kept); false when the segment has no more.
   */
  next(out: Classified): boolean {
    if (this.#done) return false;
    const rec = this.#rec;
    const b = rec.bytes;
    const ints = this.#ints;
    const end = this.#end;
    for (;;) {
      const row = this.#row;
      const i = row * FLOW_INTS;
      if (row >= 0 && ints[i + Fl.MsgLen] >= 0) {
        // the rest of a message begun in an earlier segment
        const len = ints[i + Fl.MsgLen];
        const got = ints[i + Fl.Got];
        const take = Math.min(len - got, end - this.#p);
        const keep = Math.min(take, this.#kept - got);
        if (keep > 0) copy(this.#messages, this.#keptAt(row) + got, b, this.#p, keep);
        this.#p += take;
        ints[i + Fl.Got] = got + take;
        if (got + take < len) return this.#finish();
        ints[i + Fl.MsgLen] = -1;
        if (this.#classifyKept(row, len, out)) return true;
        continue;
      }
      const p = this.#p;
      if (p >= end) return this.#finish();
      let len: number;
      let prefixSeq: number;
      if (row >= 0 && ints[i + Fl.LenByte] >= 0) {
        len = (ints[i + Fl.LenByte] << 8) | b[p];
        prefixSeq = ints[i + Fl.MsgSeq] >>> 0;
        ints[i + Fl.LenByte] = -1;
        this.#p = p + 1;
      } else if (end - p < 2) {
        // one byte of a length prefix: its second byte comes next
        if (this.#trusted && this.#ensureRow()) {
          const r = this.#row * FLOW_INTS;
          ints[r + Fl.LenByte] = b[p];
          ints[r + Fl.MsgSeq] = this.#seqAt(p) | 0;
        }
        this.#p = end;
        return this.#finish();
      } else {
        len = (b[p] << 8) | b[p + 1];
        prefixSeq = this.#seqAt(p);
        this.#p = p + 2;
      }
      if (len < DNS_HEADER_LEN) {
        // no DNS message is that short: these are not the bytes we took them for
        this.#lose();
        return false;
      }
      const msgOff = this.#p;
      if (msgOff + len <= end) {
        this.#p = msgOff + len;
        const msg = this.#decodeInPacket(msgOff, msgOff + len);
        if (!this.#trusted) {
          // not known to begin a message: only a whole, well-formed one says it does
          if (msg.malformedLayer !== Layer.None) return this.#finish();
          this.#trusted = true;
        }
        if (classifyDnsMessage(rec, msg, prefixSeq, len, rec.srcAddrOff, rec.dstAddrOff, out)) {
          // the segment's last message: done with it now (the next call has nothing to read)
          if (this.#p >= end) this.#finish();
          return true;
        }
        continue;
      }
      // a message that goes on in later segments
      if (!this.#trusted && this.#plausibleStart(msgOff, end)) this.#trusted = true;
      if (this.#trusted && this.#ensureRow()) {
        const r = this.#row;
        const got = end - msgOff;
        const keep = Math.min(got, this.#kept);
        copy(this.#messages, this.#keptAt(r), b, msgOff, keep);
        ints[r * FLOW_INTS + Fl.MsgLen] = len;
        ints[r * FLOW_INTS + Fl.Got] = got;
        ints[r * FLOW_INTS + Fl.MsgSeq] = prefixSeq | 0;
      }
      this.#p = end;
      return this.#finish();
    }
  }

  /** The segment is read: the flow now expects what follows it (or is forgotten). */
  #finish(): false {
    this.#done = true;
    if (!this.#writes) return false;
    if (!this.#trusted || !this.#whole || this.#fin) {
      // not known where messages begin after this, or bytes missing, or no more bytes
      this.#forget(this.#row);
      this.#row = -1;
      return false;
    }
    if (!this.#ensureRow()) return false;
    this.#ints[this.#row * FLOW_INTS + Fl.Next] = (this.#seq + this.#rec.payloadLen) | 0;
    return false;
  }

  /** What was taken for message boundaries was not: the direction is no longer followed. */
  #lose(): void {
    this.#trusted = false;
    this.#finish();
  }

  /** The sequence number of payload byte `p`. */
  #seqAt(p: number): number {
    return (this.#seq + (p - this.#payloadOff)) >>> 0;
  }

  /** Where row r's kept message bytes begin in #messages. */
  #keptAt(r: number): number {
    return r * (ADDR_BYTES + this.#kept) + ADDR_BYTES;
  }

  /** The message [off, end) of the segment, decoded (by the packet's own decode when it is the message the segment begins with). */
  #decodeInPacket(off: number, end: number): PacketRecord {
    const rec = this.#rec;
    if (rec.dnsOff === off && rec.dnsEnd === end) return rec;
    const msg = this.#msg;
    msg.reset(rec.bytes, rec.start, rec.end, rec.linktype, rec.wireLen);
    decodeDns(rec.bytes, off, end, msg);
    return msg;
  }

  /**
   * Whether [off, end), the start of a longer message in a segment not known to begin
   * one, reads as the start of a question or answer: one question, complete here and
   * well-formed, of a standard query, Z clear, a class in use. (A persistent
   * connection's first answer seen may not fit in one segment; the rest of a message
   * passes this by chance about once in 10^7.)
   */
  #plausibleStart(off: number, end: number): boolean {
    const rec = this.#rec;
    const msg = this.#msg;
    msg.reset(rec.bytes, rec.start, rec.end, rec.linktype, rec.wireLen);
    decodeDnsPrefix(rec.bytes, off, end, msg);
    const qclass = msg.dnsQclass;
    return (
      msg.malformedLayer === Layer.None &&
      msg.dnsQdCount === 1 &&
      msg.dnsQnameOff >= 0 &&
      msg.dnsOpcode === 0 &&
      (msg.dnsFlags & DNS_FLAG_Z) === 0 &&
      (qclass === DNS_CLASS_IN ||
        qclass === DNS_CLASS_CH ||
        qclass === DNS_CLASS_HS ||
        qclass === DNS_CLASS_ANY)
    );
  }

  /** A reassembled message of `len` bytes, complete in row r: classified from its kept bytes. */
  #classifyKept(r: number, len: number, out: Classified): boolean {
    const rec = this.#rec;
    const m = this.#messages;
    const at = this.#keptAt(r);
    const kept = Math.min(len, this.#kept);
    const msg = this.#msg;
    msg.reset(m, at, at + kept, rec.linktype, kept);
    if (len <= this.#kept) decodeDns(m, at, at + len, msg);
    else decodeDnsPrefix(m, at, at + kept, msg);
    // the key's addresses next to the message: one array holds all of the key's bytes
    const base = at - ADDR_BYTES;
    const addrLen = rec.ipVersion === 6 ? 16 : 4;
    copy(m, base, rec.bytes, rec.srcAddrOff, addrLen);
    copy(m, base + 16, rec.bytes, rec.dstAddrOff, addrLen);
    const seq = this.#ints[r * FLOW_INTS + Fl.MsgSeq] >>> 0;
    return classifyDnsMessage(rec, msg, seq, len, base, base + 16, out);
  }

  /** The segment's flow row, made when it has none (false when its state may not be written). */
  #ensureRow(): boolean {
    if (!this.#writes) return false;
    if (this.#row < 0) {
      this.#row = this.#open();
      const i = this.#row * FLOW_INTS;
      this.#ints[i + Fl.MsgLen] = -1;
      this.#ints[i + Fl.LenByte] = -1;
    }
    return true;
  }

  /** The flow direction's hash: of classify's hashes of its addresses, and the rest of its identity. */
  #hash(reverse: boolean): number {
    const rec = this.#rec;
    let h = mix(HASH_SEED ^ 0x444e5354, this.#iface);
    h = mix(h, this.#tunnel);
    h = mix(h, reverse ? (rec.dstPort << 16) | rec.srcPort : (rec.srcPort << 16) | rec.dstPort);
    h = mix(h, reverse ? this.#dstHash : this.#srcHash);
    return finish(mix(h, reverse ? this.#srcHash : this.#dstHash));
  }

  /** The row of the segment's flow direction (reverse: of the other direction) on its interface and tunnel, or -1. */
  #find(reverse: boolean): number {
    const rec = this.#rec;
    const addrLen = rec.ipVersion === 6 ? 16 : 4;
    const h = this.#hash(reverse);
    const ints = this.#ints;
    const a = this.#addrs;
    const b = rec.bytes;
    const src = reverse ? rec.dstAddrOff : rec.srcAddrOff;
    const dst = reverse ? rec.srcAddrOff : rec.dstAddrOff;
    const ports = reverse ? (rec.dstPort << 16) | rec.srcPort : (rec.srcPort << 16) | rec.dstPort;
    for (let r = this.#buckets[h & this.#mask]; r >= 0; r = ints[r * FLOW_INTS + Fl.Chain]) {
      const i = r * FLOW_INTS;
      if (
        ints[i + Fl.Hash] !== h ||
        ints[i + Fl.Iface] !== this.#iface ||
        ints[i + Fl.Tunnel] !== this.#tunnel ||
        ints[i + Fl.Ports] !== ports ||
        ints[i + Fl.Version] !== rec.ipVersion
      )
        continue;
      let same = true;
      for (let k = 0, at = r * ADDR_BYTES; k < addrLen && same; k++)
        same = a[at + k] === b[src + k] && a[at + 16 + k] === b[dst + k];
      if (same) return r;
    }
    return -1;
  }

  /** A new row for the flow direction (the least recently active one forgotten when all are taken). */
  #open(): number {
    const rec = this.#rec;
    const addrLen = rec.ipVersion === 6 ? 16 : 4;
    let r: number;
    if (this.#freeTop > 0) r = this.#free[--this.#freeTop];
    else if (this.#used < this.#maxFlows) r = this.#used++;
    else {
      r = this.#oldest;
      this.#forget(r);
      this.#evicted++;
      r = this.#free[--this.#freeTop];
    }
    const h = this.#hash(false);
    const ints = this.#ints;
    const i = r * FLOW_INTS;
    ints[i + Fl.Iface] = this.#iface;
    ints[i + Fl.Tunnel] = this.#tunnel;
    ints[i + Fl.Ports] = (rec.srcPort << 16) | rec.dstPort;
    ints[i + Fl.Version] = rec.ipVersion;
    ints[i + Fl.Hash] = h;
    ints[i + Fl.MsgLen] = -1;
    ints[i + Fl.Got] = 0;
    ints[i + Fl.LenByte] = -1;
    const b = rec.bytes;
    const a = this.#addrs;
    for (let k = 0, at = r * ADDR_BYTES; k < addrLen; k++) {
      a[at + k] = b[rec.srcAddrOff + k];
      a[at + 16 + k] = b[rec.dstAddrOff + k];
    }
    const bucket = h & this.#mask;
    ints[i + Fl.Chain] = this.#buckets[bucket];
    this.#buckets[bucket] = r;
    // newest in the activity list
    ints[i + Fl.Older] = this.#newest;
    ints[i + Fl.Newer] = -1;
    if (this.#newest >= 0) ints[this.#newest * FLOW_INTS + Fl.Newer] = r;
    this.#newest = r;
    if (this.#oldest < 0) this.#oldest = r;
    this.#live++;
    return r;
  }

  /** Row r was active: it becomes the newest. */
  #touch(r: number): void {
    if (r === this.#newest) return;
    this.#unlinkActivity(r);
    const ints = this.#ints;
    ints[r * FLOW_INTS + Fl.Older] = this.#newest;
    ints[r * FLOW_INTS + Fl.Newer] = -1;
    if (this.#newest >= 0) ints[this.#newest * FLOW_INTS + Fl.Newer] = r;
    this.#newest = r;
    if (this.#oldest < 0) this.#oldest = r;
  }

  #unlinkActivity(r: number): void {
    const ints = this.#ints;
    const older = ints[r * FLOW_INTS + Fl.Older];
    const newer = ints[r * FLOW_INTS + Fl.Newer];
    if (older >= 0) ints[older * FLOW_INTS + Fl.Newer] = newer;
    else this.#oldest = newer;
    if (newer >= 0) ints[newer * FLOW_INTS + Fl.Older] = older;
    else this.#newest = older;
  }

  /** Stops following row r's flow direction (nothing when r is -1). */
  #forget(r: number): void {
    if (r < 0) return;
    const ints = this.#ints;
    const i = r * FLOW_INTS;
    const bucket = ints[i + Fl.Hash] & this.#mask;
    let prev = -1;
    for (let x = this.#buckets[bucket]; x >= 0; prev = x, x = ints[x * FLOW_INTS + Fl.Chain]) {
      if (x !== r) continue;
      if (prev < 0) this.#buckets[bucket] = ints[i + Fl.Chain];
      else ints[prev * FLOW_INTS + Fl.Chain] = ints[i + Fl.Chain];
      break;
    }
    this.#unlinkActivity(r);
    this.#free[this.#freeTop++] = r;
    this.#live--;
  }
}

/** n bytes from[fromAt…] to to[toAt…] (a plain loop: no view object per copy). */
function copy(to: Uint8Array, toAt: number, from: Uint8Array, fromAt: number, n: number): void {
  for (let k = 0; k < n; k++) to[toAt + k] = from[fromAt + k];
}
