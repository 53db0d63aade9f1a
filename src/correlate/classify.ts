// What a decoded packet is to the correlator (DESIGN §5.1, §5.3), computed into one
// reused object without allocating: its fingerprint (the same packet on every
// interface, through NAT and tunnels), and — when it belongs to an exchange — the
// exchange kind, stage and key. Packets of no exchange (TCP data, other UDP) get
// kind None and cost nothing more. DNS messages carried over TCP are found by
// dns-tcp.ts (a segment may hold several, or a piece of one) and classified here.
import { Layer, TunnelType, UNSIGNED_32, type PacketRecord } from '../decode/record.js';
import { mix, finish, finish30, hashBytes, hashFoldedBytes, HASH_SEED } from './hash.js';
import { KEY_NAME_BYTES } from './tables.js';

export const enum Kind {
  None = 0,
  IcmpEcho = 1,
  Icmpv6Echo = 2,
  TcpHandshake = 3,
  Dns = 4,
  Dhcp = 5,
  Arp = 6,
}

export const KIND_NAMES: readonly string[] = [
  '',
  'icmp-echo',
  'icmpv6-echo',
  'tcp-handshake',
  'dns',
  'dhcp',
  'arp',
];

/** Stage names per kind (DESIGN §3), in protocol order; error stages come last. */
export const STAGE_NAMES: ReadonlyArray<readonly string[]> = [
  [],
  ['request', 'reply', 'icmp-error'],
  ['request', 'reply', 'icmp-error'],
  ['syn', 'syn-ack', 'ack', 'rst', 'icmp-error'],
  ['query', 'response', 'icmp-error'],
  ['discover', 'offer', 'request', 'ack', 'nak'],
  ['request', 'reply'],
];

/** Stage index constants used by the verdict logic. */
export const STAGE = {
  ECHO_REQUEST: 0,
  ECHO_REPLY: 1,
  ECHO_ERROR: 2,
  SYN: 0,
  SYN_ACK: 1,
  ACK: 2,
  RST: 3,
  TCP_ERROR: 4,
  DNS_QUERY: 0,
  DNS_RESPONSE: 1,
  DNS_ERROR: 2,
  DHCP_DISCOVER: 0,
  DHCP_OFFER: 1,
  DHCP_REQUEST: 2,
  DHCP_ACK: 3,
  DHCP_NAK: 4,
  ARP_REQUEST: 0,
  ARP_REPLY: 1,
} as const;

/** Payload bytes hashed into fingerprints and echo keys (ping's timestamp lives in the first 8-16). */
const PAYLOAD_HASH_BYTES = 32;
/** Bytes of a DNS name hashed, at most (a name is at most 255 bytes). */
const MAX_DNS_NAME_BYTES = 255;

export class Classified {
  /** hash of the fields forwarding does not change (32 bits); 0 when the packet has no usable identity */
  fingerprint = 0;
  kind: Kind = Kind.None;
  stage = 0;
  /** exchange key (kind-specific hash, 32 bits); 0 when none */
  key = 0;
  /** the key as a 30-bit slot (its low bits) and the two bits above it (the correlator's index) */
  keySlot = 0;
  keyCheck = 0;
  /** TCP: a pure ACK that may complete the handshake keyed by `key` (checked against the exchange) */
  maybeAck = false;
  /** the acknowledgement number of that ACK (to check against the server's ISN) */
  ackNumber = UNSIGNED_32;
  /** an error answer: its text (DNS rcode, ICMP error) — '' when none */
  errorDetail = '';
  /** the ICMP error quotes the answer (an echo reply that could not be delivered), not the question */
  errorAboutAnswer = false;
  /** flow direction (addresses at this sighting, before NAT; 30-bit hashes, 0: none), for learned paths */
  srcHash = 0;
  dstHash = 0;
  /** sent to a broadcast or multicast address: it floods, its "path" is a tree */
  broadcast = false;
  /** TCP sequence number (a SYN-ACK's is the server's ISN) */
  tcpSeq = UNSIGNED_32;
  /** the tunnel it was seen in: (TunnelType << 24) | VNI, or -1 outside any */
  tunnel = -1;
  /** TTL / hop limit of the innermost IP header (a routed hop lowers it), -1 when none */
  ttl = -1;
  /**
   * Asking-stage packets only (`hasKey`): what the exchange's key text is written from
   * (ExchangeRows keeps the same): three numbers (echo id/seq, TCP ports and ISN, DNS id
   * and qtype, DHCP xid), the addresses' IP version, which are known (bit 0 source, bit
   * 1 destination), the DNS name's length on the wire (-1: none), and where the bytes
   * are: the source and destination address (DHCP: the client MAC; keyAddrBytes long
   * each) and the name, in `keySource` — the packet itself, or the replay's decoder
   * ring. Nothing is copied until an exchange keeps its key.
   */
  hasKey = false;
  keyPart0 = UNSIGNED_32;
  keyPart1 = UNSIGNED_32;
  keyPart2 = UNSIGNED_32;
  addrVersion = 0;
  addrKnown = 0;
  nameLen = -1;
  keySource: Uint8Array = new Uint8Array(0);
  keySrcAt = 0;
  keyDstAt = 0;
  keyNameAt = 0;

  constructor() {
    // the unsigned 32-bit fields hold doubles from the start (see UNSIGNED_32), then 0
    this.ackNumber = 0;
    this.tcpSeq = 0;
    this.keyPart0 = 0;
    this.keyPart1 = 0;
    this.keyPart2 = 0;
  }
}

/** Bytes of each key address: IPv4 4, IPv6 16, a DHCP client's MAC (version 0) 6. */
export function keyAddrBytes(addrVersion: number): number {
  return addrVersion === 4 ? 4 : addrVersion === 6 ? 16 : 6;
}

/** Which stage may open an exchange (the asking side). */
export function opensExchange(kind: Kind, stage: number): boolean {
  switch (kind) {
    case Kind.IcmpEcho:
    case Kind.Icmpv6Echo:
      return stage === STAGE.ECHO_REQUEST;
    case Kind.TcpHandshake:
      return stage === STAGE.SYN;
    case Kind.Dns:
      return stage === STAGE.DNS_QUERY;
    case Kind.Dhcp:
      return stage === STAGE.DHCP_DISCOVER || stage === STAGE.DHCP_REQUEST;
    case Kind.Arp:
      return stage === STAGE.ARP_REQUEST;
    default:
      return false;
  }
}

/**
 * An address as a 30-bit hash (0: none; an address that hashes to 0 becomes 1). The
 * flow and route keys made of it are 30 bits anyway, and a small integer crosses calls
 * without being boxed.
 */
/** The 30-bit hash of the address bytes at `off` (4 or 16 long), as srcHash and dstHash hold it. */
export function hashAddr(b: Uint8Array, off: number, len: number): number {
  if (off < 0) return 0;
  if (len !== 4) return finish30(hashBytes(HASH_SEED, b, off, off + len)) || 1;
  // IPv4, twice per packet: hashBytes' value for one word, without its loop.
  const word = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
  return finish30(mix(mix(HASH_SEED, word), 4)) || 1;
}

function payloadHash(rec: PacketRecord, h: number): number {
  if (rec.payloadOff < 0 || rec.payloadLen <= 0) return h;
  const end = Math.min(rec.payloadOff + Math.min(rec.payloadLen, PAYLOAD_HASH_BYTES), rec.end);
  return hashBytes(h, rec.bytes, rec.payloadOff, end);
}

/** Hash of a DNS message's question (id, name case-folded, type) at `dnsOff`; 0 when unreadable. */
export function dnsQuestionKey(b: Uint8Array, dnsOff: number, end: number): number {
  if (dnsOff < 0 || dnsOff + 12 > end) return 0;
  const id = (b[dnsOff] << 8) | b[dnsOff + 1];
  const qd = (b[dnsOff + 4] << 8) | b[dnsOff + 5];
  let h = mix(HASH_SEED ^ 0x444e53, id);
  if (qd === 0) return finish(h) || 1;
  const name = dnsOff + 12;
  let p = name;
  const limit = Math.min(end, p + MAX_DNS_NAME_BYTES);
  // Labels up to the root label or a compression pointer; every step moves p forward.
  while (p < limit) {
    const len = b[p];
    if (len === 0 || len >= 0xc0) break;
    if (len > 63 || p + 1 + len > limit) break;
    p += 1 + len;
  }
  // The whole labels as on the wire (length bytes are below 0x41: folding leaves them).
  h = hashFoldedBytes(h, b, name, p);
  if (p < end && b[p] === 0 && p + 3 < end) h = mix(h, (b[p + 1] << 8) | b[p + 2]);
  return finish(h) || 1;
}

const ICMP_ERROR_TYPES_V4 = new Set([3, 4, 5, 11, 12]);
const ICMP_ERROR_TYPES_V6 = new Set([1, 2, 3, 4]);

const UNREACH_V4: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  5: 'source-route-failed',
  6: 'net-unknown',
  7: 'host-unknown',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};
const UNREACH_V6: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy-failed',
  6: 'reject-route',
};

/** The detail of an ICMP error (DESIGN §3 `detail`): `frag-needed mtu=1450`, `port-unreachable`, … */
export function icmpErrorDetail(v6: boolean, type: number, code: number, mtu: number): string {
  if (!v6) {
    if (type === 3 && code === 4) return `frag-needed mtu=${mtu}`;
    if (type === 3) return UNREACH_V4[code] ?? `unreachable code=${code}`;
    if (type === 11) return code === 1 ? 'fragment-reassembly-time-exceeded' : 'time-exceeded';
    if (type === 12) return 'parameter-problem';
    if (type === 4) return 'source-quench';
    return `icmp type=${type} code=${code}`;
  }
  if (type === 2) return `packet-too-big mtu=${mtu}`;
  if (type === 1) return UNREACH_V6[code] ?? `unreachable code=${code}`;
  if (type === 3) return 'time-exceeded';
  if (type === 4) return 'parameter-problem';
  return `icmpv6 type=${type} code=${code}`;
}

const DNS_RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

function echoKey(
  id: number,
  seq: number,
  b: Uint8Array,
  payloadOff: number,
  payloadEnd: number,
  v6: boolean,
): number {
  let h = mix(HASH_SEED ^ (v6 ? 0x3636 : 0x3434), id);
  h = mix(h, seq);
  // ping's payload starts with its send time: it tells two pings with equal id/seq apart.
  if (payloadOff >= 0 && payloadEnd > payloadOff)
    h = hashBytes(h, b, payloadOff, Math.min(payloadEnd, payloadOff + 8));
  return finish(h);
}

function tcpKey(isn: number): number {
  return finish(mix(HASH_SEED ^ 0x544350, isn));
}

function dhcpKey(rec: PacketRecord): number {
  let h = mix(HASH_SEED ^ 0x444843, rec.dhcpXid);
  if (rec.dhcpChaddrOff >= 0)
    h = hashBytes(h, rec.bytes, rec.dhcpChaddrOff, rec.dhcpChaddrOff + Math.min(rec.dhcpHlen, 16));
  return finish(h);
}

function arpKey(b: Uint8Array, requesterOff: number, targetOff: number): number {
  let h = hashBytes(HASH_SEED ^ 0x415250, b, requesterOff, requesterOff + 4);
  h = hashBytes(h, b, targetOff, targetOff + 4);
  return finish(h);
}

/**
 * Fills `out` from a decoded packet. The fingerprint (§5.1) covers IP identification,
 * protocol, L4 invariants and the first payload bytes — never MACs, TTL, checksums,
 * addresses or ports — of the innermost packet, so translation and encapsulation keep it.
 * A packet of an exchange also gets what the correlator keeps of it (`tcpSeq`,
 * `tunnel`, and for an asking stage the key), so that `out` alone carries it on (the
 * replay's decoder thread sends only this).
 */
export function classify(rec: PacketRecord, out: Classified): void {
  classifyPacket(rec, out);
  out.hasKey = false;
  if (out.kind === Kind.None) return;
  out.keySlot = out.key & 0x3fffffff;
  out.keyCheck = out.key >>> 30;
  out.tcpSeq = rec.tcpSeq;
  out.tunnel = tunnelOf(rec);
  out.ttl = out.kind === Kind.Arp ? -1 : rec.ttl;
  if (opensExchange(out.kind, out.stage)) keepKey(rec, out);
}

/** The tunnel a packet was seen in: (TunnelType << 24) | VNI, or -1 outside any. */
export function tunnelOf(rec: PacketRecord): number {
  return rec.tunnelType === TunnelType.None ? -1 : (rec.tunnelType << 24) | (rec.tunnelVni & 0xffffff);
}

/**
 * One DNS message carried over TCP (dns-tcp.ts finds them), classified as a DNS message
 * over UDP is: `msg` holds its decoded DNS fields, `seg` the segment that completed it.
 * The message's fingerprint is the sequence number of its length prefix (`prefixSeq`),
 * its length and its key (id, question): a message is one packet wherever it is seen,
 * however TCP cut it into segments there (segmentation offload, GRO), and a
 * retransmission of it is the same packet (a DNS client retrying over UDP sends a new
 * datagram instead).
 * The key's addresses are read at srcAt and dstAt of msg.bytes (the segment's own, or
 * a copy next to a reassembled message). `out` keeps what classify() found for the
 * segment's addresses (srcHash, dstHash, broadcast). False when the message is no
 * exchange (malformed, not a standard query or response).
 */
export function classifyDnsMessage(
  seg: PacketRecord,
  msg: PacketRecord,
  prefixSeq: number,
  msgLen: number,
  srcAt: number,
  dstAt: number,
  out: Classified,
): boolean {
  out.kind = Kind.None;
  out.hasKey = false;
  if (msg.dnsOff < 0 || msg.dnsOpcode !== 0 || msg.malformedLayer === Layer.Dns) return false;
  out.errorDetail = '';
  classifyDns(msg, out);
  if (out.kind === Kind.None) return false;
  out.fingerprint = finish(mix(mix(mix(HASH_SEED ^ 0x544344, out.key), prefixSeq), msgLen)) || 1;
  out.maybeAck = false;
  out.errorAboutAnswer = false;
  out.keySlot = out.key & 0x3fffffff;
  out.keyCheck = out.key >>> 30;
  out.tcpSeq = seg.tcpSeq;
  out.tunnel = tunnelOf(seg);
  out.ttl = seg.ttl;
  if (out.stage !== STAGE.DNS_QUERY) return true;
  out.hasKey = true;
  out.keySource = msg.bytes;
  out.addrVersion = seg.ipVersion;
  out.keySrcAt = srcAt;
  out.keyDstAt = dstAt;
  out.addrKnown = 3;
  keepDnsKey(msg, out);
  return true;
}

/**
 * Bytes of the DNS name at `off` as on the wire: its labels up to the root label or a
 * compression pointer, at most KEY_NAME_BYTES and never past `end`.
 */
function nameWireBytes(b: Uint8Array, off: number, end: number): number {
  const limit = Math.min(end, off + KEY_NAME_BYTES);
  let p = off;
  // every step moves p forward
  while (p < limit) {
    const len = b[p];
    if (len === 0) return p + 1 - off;
    if (len >= 0xc0) return Math.min(p + 2, limit) - off;
    p += 1 + len;
  }
  return Math.min(p, limit) - off;
}

/** What the key text needs (DESIGN §3 `key`), as numbers and offsets: no string is built, nothing copied. */
function keepKey(rec: PacketRecord, out: Classified): void {
  out.hasKey = true;
  out.keySource = rec.bytes;
  out.nameLen = -1;
  out.keyPart0 = 0;
  out.keyPart1 = 0;
  out.keyPart2 = 0;
  out.addrVersion = 0;
  if (out.kind === Kind.Arp) {
    out.addrVersion = 4;
    out.keySrcAt = rec.arpSpaOff;
    out.keyDstAt = rec.arpTpaOff;
    out.addrKnown = (rec.arpSpaOff >= 0 ? 1 : 0) | (rec.arpTpaOff >= 0 ? 2 : 0);
    return;
  }
  if (out.kind === Kind.Dhcp) {
    out.keyPart0 = rec.dhcpXid >>> 0;
    out.keySrcAt = rec.dhcpChaddrOff;
    out.addrKnown = rec.dhcpChaddrOff >= 0 ? 1 : 0;
    return;
  }
  out.addrVersion = rec.ipVersion;
  out.keySrcAt = rec.srcAddrOff;
  out.keyDstAt = rec.dstAddrOff;
  out.addrKnown = (rec.srcAddrOff >= 0 ? 1 : 0) | (rec.dstAddrOff >= 0 ? 2 : 0);
  if (out.kind === Kind.TcpHandshake) {
    out.keyPart0 = rec.srcPort;
    out.keyPart1 = rec.dstPort;
    out.keyPart2 = rec.tcpSeq >>> 0;
  } else if (out.kind === Kind.Dns) {
    keepDnsKey(rec, out);
  } else {
    out.keyPart0 = rec.icmpId;
    out.keyPart1 = rec.icmpSeq;
  }
}

/** A DNS key's numbers and name (in rec.bytes, which must be out.keySource). */
function keepDnsKey(rec: PacketRecord, out: Classified): void {
  out.keyPart0 = rec.dnsId;
  out.keyPart1 = rec.dnsQtype;
  out.keyPart2 = 0;
  out.nameLen = -1;
  if (rec.dnsQnameOff >= 0) {
    const len = nameWireBytes(rec.bytes, rec.dnsQnameOff, rec.dnsEnd > 0 ? rec.dnsEnd : rec.end);
    if (len > 0) {
      out.keyNameAt = rec.dnsQnameOff;
      out.nameLen = len;
    }
  }
}

function classifyPacket(rec: PacketRecord, out: Classified): void {
  out.kind = Kind.None;
  out.stage = 0;
  out.key = 0;
  out.maybeAck = false;
  out.errorDetail = '';
  out.errorAboutAnswer = false;
  out.fingerprint = 0;
  const b = rec.bytes;
  out.broadcast =
    (rec.ethDstOff >= 0 && (b[rec.ethDstOff] & 1) === 1) ||
    (rec.ipVersion === 4 &&
      rec.dstAddrOff >= 0 &&
      b[rec.dstAddrOff] === 255 &&
      b[rec.dstAddrOff + 1] === 255 &&
      b[rec.dstAddrOff + 2] === 255 &&
      b[rec.dstAddrOff + 3] === 255);

  if (rec.arpOp === 1 || rec.arpOp === 2) {
    if (rec.arpSpaOff < 0 || rec.arpTpaOff < 0 || rec.arpShaOff < 0) return;
    let h = mix(HASH_SEED ^ 0x61, rec.arpOp);
    h = hashBytes(h, b, rec.arpShaOff, rec.arpShaOff + 6);
    h = hashBytes(h, b, rec.arpSpaOff, rec.arpSpaOff + 4);
    h = hashBytes(h, b, rec.arpTpaOff, rec.arpTpaOff + 4);
    out.fingerprint = finish(h) || 1;
    out.srcHash = hashAddr(b, rec.arpSpaOff, 4);
    out.dstHash = hashAddr(b, rec.arpTpaOff, 4);
    // Gratuitous ARP and probes (sender 0.0.0.0) ask nobody.
    const spa =
      (b[rec.arpSpaOff] << 24) |
      (b[rec.arpSpaOff + 1] << 16) |
      (b[rec.arpSpaOff + 2] << 8) |
      b[rec.arpSpaOff + 3];
    const tpa =
      (b[rec.arpTpaOff] << 24) |
      (b[rec.arpTpaOff + 1] << 16) |
      (b[rec.arpTpaOff + 2] << 8) |
      b[rec.arpTpaOff + 3];
    if (spa === 0 || spa === tpa) return;
    out.kind = Kind.Arp;
    if (rec.arpOp === 1) {
      out.stage = STAGE.ARP_REQUEST;
      out.key = arpKey(b, rec.arpSpaOff, rec.arpTpaOff);
    } else {
      out.stage = STAGE.ARP_REPLY;
      out.key = arpKey(b, rec.arpTpaOff, rec.arpSpaOff);
    }
    return;
  }

  if (rec.ipVersion === 0 || rec.ipProto < 0) return;
  const v6 = rec.ipVersion === 6;
  const addrLen = v6 ? 16 : 4;
  out.srcHash = hashAddr(b, rec.srcAddrOff, addrLen);
  out.dstHash = hashAddr(b, rec.dstAddrOff, addrLen);
  let h = mix(HASH_SEED, rec.ipProto);
  h = mix(h, rec.ipId < 0 ? 0 : rec.ipId);
  h = mix(h, rec.fragOffset);
  if (rec.laterFragment) {
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    return;
  }
  const proto = rec.ipProto;
  if ((proto === 1 && !v6) || (proto === 58 && v6)) {
    h = mix(h, (rec.icmpType << 8) | (rec.icmpCode & 0xff));
    h = mix(h, rec.icmpId);
    h = mix(h, rec.icmpSeq);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    const type = rec.icmpType;
    const request = v6 ? 128 : 8;
    const reply = v6 ? 129 : 0;
    if ((type === request || type === reply) && rec.icmpId >= 0) {
      out.kind = v6 ? Kind.Icmpv6Echo : Kind.IcmpEcho;
      out.stage = type === request ? STAGE.ECHO_REQUEST : STAGE.ECHO_REPLY;
      const payloadEnd = rec.payloadOff >= 0 ? rec.payloadOff + rec.payloadLen : -1;
      out.key = echoKey(rec.icmpId, rec.icmpSeq, b, rec.payloadOff, Math.min(payloadEnd, rec.end), v6);
      return;
    }
    if ((v6 ? ICMP_ERROR_TYPES_V6 : ICMP_ERROR_TYPES_V4).has(type)) classifyIcmpError(rec, out, v6);
    return;
  }
  if (proto === 6) {
    h = mix(h, rec.tcpSeq);
    h = mix(h, rec.tcpAck);
    h = mix(h, rec.tcpFlags);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    const flags = rec.tcpFlags;
    if ((flags & 0x02) !== 0 && (flags & 0x10) === 0) {
      out.kind = Kind.TcpHandshake;
      out.stage = STAGE.SYN;
      out.key = tcpKey(rec.tcpSeq);
    } else if ((flags & 0x12) === 0x12) {
      out.kind = Kind.TcpHandshake;
      out.stage = STAGE.SYN_ACK;
      out.key = tcpKey((rec.tcpAck - 1) >>> 0);
    } else if ((flags & 0x04) !== 0) {
      // A RST answering a SYN acknowledges ISN + 1 (RFC 793 reset generation).
      out.kind = Kind.TcpHandshake;
      out.stage = STAGE.RST;
      out.key = tcpKey((flags & 0x10) !== 0 ? (rec.tcpAck - 1) >>> 0 : (rec.tcpSeq - 1) >>> 0);
      out.errorDetail = 'RST';
    } else if (flags === 0x10 && rec.payloadLen === 0) {
      // Possibly the handshake's last ACK: seq = ISN + 1; the correlator checks it.
      out.kind = Kind.TcpHandshake;
      out.stage = STAGE.ACK;
      out.key = tcpKey((rec.tcpSeq - 1) >>> 0);
      out.maybeAck = true;
      out.ackNumber = rec.tcpAck;
    }
    return;
  }
  if (proto === 17) {
    h = mix(h, rec.udpLen);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    if (rec.dhcpMsgType > 0 && rec.dhcpXid >= 0) {
      const t = rec.dhcpMsgType;
      const stage =
        t === 1
          ? STAGE.DHCP_DISCOVER
          : t === 2
            ? STAGE.DHCP_OFFER
            : t === 3
              ? STAGE.DHCP_REQUEST
              : t === 5
                ? STAGE.DHCP_ACK
                : t === 6
                  ? STAGE.DHCP_NAK
                  : -1;
      if (stage < 0) return;
      out.kind = Kind.Dhcp;
      out.stage = stage;
      out.key = dhcpKey(rec);
      if (stage === STAGE.DHCP_NAK) out.errorDetail = 'NAK';
      return;
    }
    if (rec.dnsOff >= 0 && rec.dnsOpcode === 0 && rec.malformedLayer !== Layer.Dns) classifyDns(rec, out);
    return;
  }
  out.fingerprint = finish(payloadHash(rec, h)) || 1;
}

function classifyDns(rec: PacketRecord, out: Classified): void {
  const key = dnsQuestionKey(rec.bytes, rec.dnsOff, rec.dnsEnd > 0 ? rec.dnsEnd : rec.end);
  if (key === 0) return;
  out.kind = Kind.Dns;
  out.key = key;
  out.stage = rec.dnsQr ? STAGE.DNS_RESPONSE : STAGE.DNS_QUERY;
  if (rec.dnsQr && rec.dnsRcode !== 0) {
    const rcode = rec.dnsExtRcode >= 0 ? rec.dnsExtRcode : rec.dnsRcode;
    out.errorDetail = DNS_RCODES[rcode] ?? `RCODE${rcode}`;
  }
}

/** An ICMP error joins the exchange of the packet it quotes (echo, SYN, DNS query). */
function classifyIcmpError(rec: PacketRecord, out: Classified, v6: boolean): void {
  const b = rec.bytes;
  const l4 = rec.quotedL4Off;
  if (l4 < 0) return;
  const end = Math.min(rec.quotedEnd > 0 ? rec.quotedEnd : rec.end, rec.end);
  const detail = icmpErrorDetail(v6, rec.icmpType, rec.icmpCode, rec.icmpMtu);
  const qp = rec.quotedIpProto;
  if ((qp === 1 && !v6) || (qp === 58 && v6)) {
    if (rec.quotedIcmpId < 0 || rec.quotedIcmpSeq < 0) return;
    out.kind = v6 ? Kind.Icmpv6Echo : Kind.IcmpEcho;
    // About the reply (no route back, …): the question was answered, the answer died.
    out.errorAboutAnswer = rec.quotedIcmpType === (v6 ? 129 : 0);
    out.stage = STAGE.ECHO_ERROR;
    out.key = echoKey(rec.quotedIcmpId, rec.quotedIcmpSeq, b, l4 + 8, end, v6);
  } else if (qp === 6) {
    out.kind = Kind.TcpHandshake;
    out.stage = STAGE.TCP_ERROR;
    out.key = tcpKey(rec.quotedTcpSeq >>> 0);
  } else if (qp === 17 && (rec.quotedDstPort === 53 || rec.quotedDstPort === 5353)) {
    const key = dnsQuestionKey(b, l4 + 8, end);
    if (key === 0) return;
    out.kind = Kind.Dns;
    out.stage = STAGE.DNS_ERROR;
    out.key = key;
  } else return;
  out.errorDetail = detail;
}
