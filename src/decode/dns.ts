// DNS messages, RFC 1035 §4.1, with AAAA (RFC 3596) and EDNS OPT (RFC 6891).
//
//  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                      ID                       |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |          QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT |  (4 x 16 bits)
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// question: QNAME (labels) | QTYPE (16) | QCLASS (16)
// resource record: NAME | TYPE (16) | CLASS (16) | TTL (32) | RDLENGTH (16) | RDATA
//
// Names (RFC 1035 §4.1.4): labels `len(1..63) bytes...`, ended by a zero byte or a
// compression pointer `11pppppp pppppppp` (offset from the message start).
// Bounds, applied identically by the decoder and by readDnsName:
// - a pointer must point strictly before the start of the label sequence that holds
//   it (the name's start, or the previous pointer's target): pointing at or inside
//   that sequence is `dns_pointer_loop`, pointing past the pointer itself is
//   `dns_pointer_forward`; so every jump goes further back and the walk ends;
// - at most DNS_MAX_POINTER_JUMPS (64) jumps, else `dns_pointer_loop`;
// - the name's wire length (labels + length bytes + root) at most 255:
//   `dns_name_too_long`;
// - a length byte 0x40-0xbf (label > 63 and not a pointer; the obsolete extended
//   label types): `dns_label_too_long`.
//
// What is kept (numbers and offsets only): header fields and all four counts; the
// first question's name offset, type and class; from the answer section the first
// MAX_DNS_ANSWERS records (type, owner name offset, rdata offset/length, TTL), whatever
// their type; from the additional section the first OPT record's UDP payload size and
// extended RCODE. Every question and record is walked (each step advances at least 5
// bytes inside the message, so the walk is bounded by the message length) so that a
// bad name anywhere is noticed. In the answer section the names inside the rdata of
// NS, CNAME, PTR, DNAME, MX, SRV and SOA are checked as well (an in-place part past the
// rdata: `dns_rdata_name_overrun`), and A/AAAA of class IN must have 4/16 bytes
// (`dns_rdata_bad_len`, the record is kept).
// Running out of bytes: `dns_too_short` (header), `dns_name_overrun`,
// `dns_question_overrun`, `dns_rr_overrun`, `dns_rdata_overrun`; truncated instead when
// the capture cut the packet. decodeDnsPrefix (DNS over TCP, a segment holding the
// start of a longer message) decodes what is present and marks nothing for the rest.
//
// For sinks (allocation allowed there): readDnsName, dnsTypeName, dnsRcodeName.

import { u16be, u32be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { FieldGroup, Layer, MAX_DNS_ANSWERS, type PacketRecord } from './record.js';

export const DNS_HEADER_LEN = 12;
export const DNS_MAX_NAME_LEN = 255;
export const DNS_MAX_POINTER_JUMPS = 64;

export const DNS_TYPE_A = 1;
export const DNS_TYPE_NS = 2;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_SOA = 6;
export const DNS_TYPE_PTR = 12;
export const DNS_TYPE_MX = 15;
export const DNS_TYPE_AAAA = 28;
export const DNS_TYPE_SRV = 33;
export const DNS_TYPE_DNAME = 39;
export const DNS_TYPE_OPT = 41;
export const DNS_CLASS_IN = 1;

const QUESTION_TAIL_LEN = 4; // QTYPE, QCLASS
const RR_FIXED_LEN = 10; // TYPE, CLASS, TTL, RDLENGTH

// walkName results (non-negative: one past the name's in-place bytes)
const NAME_SHORT = -1; // the in-place part ran past its limit
const NAME_SHORT_AFTER_JUMP = -2; // the message ended while reading a pointed-to part
const NAME_LOOP = -3;
const NAME_FORWARD = -4;
const NAME_TOO_LONG = -5;
const NAME_BAD_LABEL = -6;

/**
 * Where the last walkName failure was found: the offending length/pointer byte, or for
 * NAME_SHORT* the first missing byte. Module state: decode is single-threaded and synchronous.
 */
let nameErrorOff = -1;

/**
 * Walks the name at `nameOff` of the message starting at `msgOff` without building it.
 * The in-place part is read up to `limit`, anything reached through pointers up to
 * `msgEnd`. Returns one past the in-place part, or a negative NAME_* code.
 */
function walkName(b: Uint8Array, msgOff: number, limit: number, msgEnd: number, nameOff: number): number {
  let p = nameOff;
  let segmentStart = nameOff;
  let inPlaceEnd = -1;
  let jumps = 0;
  let wireLen = 1; // the root's zero byte
  for (;;) {
    if (p >= limit) {
      nameErrorOff = p;
      return inPlaceEnd < 0 ? NAME_SHORT : NAME_SHORT_AFTER_JUMP;
    }
    const len = b[p];
    if (len === 0) return inPlaceEnd < 0 ? p + 1 : inPlaceEnd;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= limit) {
        nameErrorOff = p + 1; // the pointer's second byte is missing
        return inPlaceEnd < 0 ? NAME_SHORT : NAME_SHORT_AFTER_JUMP;
      }
      const target = msgOff + (((len & 0x3f) << 8) | b[p + 1]);
      if (target >= segmentStart) {
        nameErrorOff = p;
        return target > p ? NAME_FORWARD : NAME_LOOP;
      }
      if (++jumps > DNS_MAX_POINTER_JUMPS) {
        nameErrorOff = p;
        return NAME_LOOP;
      }
      if (inPlaceEnd < 0) inPlaceEnd = p + 2;
      p = target;
      segmentStart = target;
      limit = msgEnd;
      continue;
    }
    if (kind !== 0) {
      nameErrorOff = p;
      return NAME_BAD_LABEL;
    }
    wireLen += len + 1;
    if (wireLen > DNS_MAX_NAME_LEN) {
      nameErrorOff = p;
      return NAME_TOO_LONG;
    }
    p += len + 1;
  }
}

/** A DNS message in [off, end) (UDP payload, or a whole message from TCP). */
export function decodeDns(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  decodeMessage(b, off, end, rec, false);
}

/**
 * The start of a DNS message whose rest is in later TCP segments: [off, end) is what
 * this segment holds. Decodes what is present; running out of bytes is marked only
 * when the capture cut the packet (truncated).
 */
export function decodeDnsPrefix(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  decodeMessage(b, off, end, rec, true);
}

function decodeMessage(b: Uint8Array, off: number, end: number, rec: PacketRecord, prefix: boolean): void {
  rec.touched |= FieldGroup.Dns;
  rec.pushLayer(Layer.Dns);
  rec.dnsOff = off;
  rec.dnsEnd = end;
  const avail = end - off;
  if (avail >= 2) rec.dnsId = u16be(b, off);
  if (avail >= 4) {
    const flags = u16be(b, off + 2);
    rec.dnsFlags = flags;
    rec.dnsQr = (flags & 0x8000) !== 0;
    rec.dnsOpcode = (flags >> 11) & 0x0f;
    rec.dnsRcode = flags & 0x0f;
  }
  if (avail < DNS_HEADER_LEN) {
    short(rec, off, off + DNS_HEADER_LEN, 'dns_too_short', prefix);
    return;
  }
  const qdCount = u16be(b, off + 4);
  const anCount = u16be(b, off + 6);
  const nsCount = u16be(b, off + 8);
  const arCount = u16be(b, off + 10);
  rec.dnsQdCount = qdCount;
  rec.dnsAnCount = anCount;
  rec.dnsNsCount = nsCount;
  rec.dnsArCount = arCount;

  let p = off + DNS_HEADER_LEN;
  for (let i = 0; i < qdCount; i++) {
    const nameEnd = walkName(b, off, end, end, p);
    if (nameEnd < 0) {
      nameAnomaly(rec, nameEnd, p, prefix);
      return;
    }
    if (end - nameEnd < QUESTION_TAIL_LEN) {
      short(rec, p, nameEnd + QUESTION_TAIL_LEN, 'dns_question_overrun', prefix);
      return;
    }
    if (i === 0) {
      rec.dnsQnameOff = p;
      rec.dnsQtype = u16be(b, nameEnd);
      rec.dnsQclass = u16be(b, nameEnd + 2);
    }
    p = nameEnd + QUESTION_TAIL_LEN;
  }

  const additionalFrom = anCount + nsCount;
  const rrCount = additionalFrom + arCount;
  for (let i = 0; i < rrCount; i++) {
    const nameEnd = walkName(b, off, end, end, p);
    if (nameEnd < 0) {
      nameAnomaly(rec, nameEnd, p, prefix);
      return;
    }
    if (end - nameEnd < RR_FIXED_LEN) {
      short(rec, p, nameEnd + RR_FIXED_LEN, 'dns_rr_overrun', prefix);
      return;
    }
    const type = u16be(b, nameEnd);
    const rrClass = u16be(b, nameEnd + 2);
    const rdLen = u16be(b, nameEnd + 8);
    const rdOff = nameEnd + RR_FIXED_LEN;
    const rdEnd = rdOff + rdLen;
    if (rdEnd > end) {
      short(rec, p, rdEnd, 'dns_rdata_overrun', prefix);
      return;
    }
    if (i < anCount) {
      if (!checkRdata(b, off, end, type, rrClass, rdOff, rdEnd, rec, prefix)) return;
      const k = rec.dnsAnswerCount;
      if (k < MAX_DNS_ANSWERS) {
        rec.dnsAnswerType[k] = type;
        rec.dnsAnswerNameOff[k] = p;
        rec.dnsAnswerDataOff[k] = rdOff;
        rec.dnsAnswerDataLen[k] = rdLen;
        rec.dnsAnswerTtl[k] = u32be(b, nameEnd + 4);
        rec.dnsAnswerCount = k + 1;
      }
    } else if (type === DNS_TYPE_OPT && i >= additionalFrom && rec.dnsEdnsUdpSize < 0) {
      // RFC 6891 §6.1.3: CLASS = UDP payload size; TTL = EXTENDED-RCODE | VERSION | DO | Z
      rec.dnsEdnsUdpSize = rrClass;
      rec.dnsExtRcode = (b[nameEnd + 4] << 4) | rec.dnsRcode;
    }
    p = rdEnd;
  }
}

/** Names inside an answer's rdata, and A/AAAA lengths. False when an anomaly stops the decode. */
function checkRdata(
  b: Uint8Array,
  msgOff: number,
  msgEnd: number,
  type: number,
  rrClass: number,
  rdOff: number,
  rdEnd: number,
  rec: PacketRecord,
  prefix: boolean,
): boolean {
  switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
    case DNS_TYPE_DNAME:
      return checkRdataName(b, msgOff, msgEnd, rdOff, rdEnd, rec, prefix) >= 0;
    case DNS_TYPE_MX: // preference (16), exchange
    case DNS_TYPE_SRV: {
      // priority, weight, port (16 each), target
      const fixed = type === DNS_TYPE_MX ? 2 : 6;
      // the fixed part must fit in the rdata, or the name's offset would point past it
      if (rdEnd - rdOff < fixed) {
        rec.markMalformed(Layer.Dns, 'dns_rdata_bad_len', rdOff);
        return false;
      }
      return checkRdataName(b, msgOff, msgEnd, rdOff + fixed, rdEnd, rec, prefix) >= 0;
    }
    case DNS_TYPE_SOA: {
      // MNAME, RNAME, then five 32-bit values
      const mnameEnd = checkRdataName(b, msgOff, msgEnd, rdOff, rdEnd, rec, prefix);
      return mnameEnd >= 0 && checkRdataName(b, msgOff, msgEnd, mnameEnd, rdEnd, rec, prefix) >= 0;
    }
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
      // class IN only (mDNS sets the top bit: cache-flush); UPDATE deletions use other classes with no rdata
      if ((rrClass & 0x7fff) === DNS_CLASS_IN && rdEnd - rdOff !== (type === DNS_TYPE_A ? 4 : 16)) {
        rec.markMalformed(Layer.Dns, 'dns_rdata_bad_len', rdOff);
      }
      return true;
    default:
      return true;
  }
}

/** One name inside rdata [.., rdEnd): returns one past its in-place part, or -1 after marking. */
function checkRdataName(
  b: Uint8Array,
  msgOff: number,
  msgEnd: number,
  nameOff: number,
  rdEnd: number,
  rec: PacketRecord,
  prefix: boolean,
): number {
  const nameEnd = walkName(b, msgOff, rdEnd, msgEnd, nameOff);
  if (nameEnd >= 0) return nameEnd;
  if (nameEnd === NAME_SHORT) rec.markMalformed(Layer.Dns, 'dns_rdata_name_overrun', nameOff);
  else nameAnomaly(rec, nameEnd, nameOff, prefix);
  return -1;
}

function nameAnomaly(rec: PacketRecord, code: number, nameOff: number, prefix: boolean): void {
  switch (code) {
    case NAME_LOOP:
      rec.markMalformed(Layer.Dns, 'dns_pointer_loop', nameErrorOff);
      return;
    case NAME_FORWARD:
      rec.markMalformed(Layer.Dns, 'dns_pointer_forward', nameErrorOff);
      return;
    case NAME_TOO_LONG:
      rec.markMalformed(Layer.Dns, 'dns_name_too_long', nameErrorOff);
      return;
    case NAME_BAD_LABEL:
      rec.markMalformed(Layer.Dns, 'dns_label_too_long', nameErrorOff);
      return;
    default: // NAME_SHORT, NAME_SHORT_AFTER_JUMP
      short(rec, nameOff, nameErrorOff + 1, 'dns_name_overrun', prefix);
  }
}

/** Bytes up to `needEnd` are missing. In prefix mode (a TCP segment holding the start of a message) only a capture cut is marked. */
function short(rec: PacketRecord, off: number, needEnd: number, reason: string, prefix: boolean): void {
  if (!prefix) markShort(rec, Layer.Dns, off, needEnd, reason);
  else if (cutByCapture(rec, needEnd)) rec.markTruncated(Layer.Dns, off);
}

// ---------------------------------------------------------------------------------
// For sinks: text from the offsets the decoder kept. These allocate; never call them
// from decode.

const nameBytes = new Uint8Array(DNS_MAX_NAME_LEN);
const utf8 = new TextDecoder('utf-8');

/**
 * The name at `nameOff` in the message [msgOff, msgEnd) as its label bytes joined by
 * '.', into `out` (DNS_MAX_NAME_LEN bytes hold any name), following compression
 * pointers with the decoder's bounds. Returns the length (0: the root name), or -1 when
 * the name is malformed or cut.
 */
function nameBytesOf(
  b: Uint8Array,
  msgOff: number,
  msgEnd: number,
  nameOff: number,
  out: Uint8Array,
): number {
  if (nameOff < msgOff || walkName(b, msgOff, msgEnd, msgEnd, nameOff) < 0) return -1;
  let n = 0;
  let p = nameOff;
  // walkName proved the walk ends within DNS_MAX_POINTER_JUMPS jumps and 255 bytes
  for (let steps = 0; steps <= DNS_MAX_NAME_LEN + DNS_MAX_POINTER_JUMPS; steps++) {
    const len = b[p];
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      p = msgOff + (((len & 0x3f) << 8) | b[p + 1]);
      continue;
    }
    if (n > 0) out[n++] = 0x2e; // '.'
    for (let i = 1; i <= len; i++) out[n++] = b[p + i];
    p += len + 1;
  }
  return n;
}

/**
 * The name at `nameOff` in the message [msgOff, msgEnd) as text, following
 * compression pointers with the decoder's bounds; null when the name is malformed or
 * cut. Written as tshark's `dns.qry.name` is: labels joined by '.', no trailing dot,
 * the root name as `<Root>`; bytes are read as UTF-8 (invalid sequences become
 * U+FFFD), control characters are escaped C-style (`\n`, `\t`, ...) or as three octal
 * digits (`\001`, `\177`); a '.' or '\' inside a label is left as it is.
 */
export function readDnsName(b: Uint8Array, msgOff: number, msgEnd: number, nameOff: number): string | null {
  const n = nameBytesOf(b, msgOff, msgEnd, nameOff, nameBytes);
  if (n < 0) return null;
  if (n === 0) return '<Root>';
  return escapeControls(utf8.decode(nameBytes.subarray(0, n)));
}

/**
 * The name at `nameOff` as readDnsName would write it, copied into `out` when that text
 * is its bytes as they are: every label byte printable ASCII other than `"` and `\`, which
 * a JSON string also holds as they are. Returns the length, or -1 when the name needs
 * readDnsName (any other byte, the root name) or is malformed or cut. No string is made:
 * for the JSON line of each DNS packet.
 */
export function copyPlainDnsName(
  b: Uint8Array,
  msgOff: number,
  msgEnd: number,
  nameOff: number,
  out: Uint8Array,
): number {
  const n = nameBytesOf(b, msgOff, msgEnd, nameOff, out);
  if (n <= 0) return -1;
  for (let i = 0; i < n; i++) {
    const c = out[i];
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
  }
  return n;
}

const C_ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
};

function escapeControls(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f) out += text[i];
    else out += C_ESCAPES[c] ?? '\\' + c.toString(8).padStart(3, '0');
  }
  return out;
}

/** Mnemonic of a DNS RR type (IANA "Resource Record (RR) TYPEs"); `TYPE<n>` (RFC 3597) when unknown. */
export function dnsTypeName(type: number): string {
  return DNS_TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** Mnemonic of a DNS RCODE, header (4-bit) or extended (12-bit, RFC 6891); `RCODE<n>` when unknown. 16 is BADVERS (in OPT; BADSIG in TSIG). */
export function dnsRcodeName(rcode: number): string {
  return DNS_RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

// prettier-ignore
const DNS_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'A'], [2, 'NS'], [5, 'CNAME'], [6, 'SOA'], [12, 'PTR'], [13, 'HINFO'], [15, 'MX'], [16, 'TXT'],
  [17, 'RP'], [18, 'AFSDB'], [24, 'SIG'], [25, 'KEY'], [28, 'AAAA'], [29, 'LOC'], [33, 'SRV'],
  [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [39, 'DNAME'], [41, 'OPT'], [42, 'APL'], [43, 'DS'],
  [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'], [49, 'DHCID'],
  [50, 'NSEC3'], [51, 'NSEC3PARAM'], [52, 'TLSA'], [53, 'SMIMEA'], [55, 'HIP'], [59, 'CDS'],
  [60, 'CDNSKEY'], [61, 'OPENPGPKEY'], [62, 'CSYNC'], [63, 'ZONEMD'], [64, 'SVCB'], [65, 'HTTPS'],
  [99, 'SPF'], [249, 'TKEY'], [250, 'TSIG'], [251, 'IXFR'], [252, 'AXFR'], [255, 'ANY'], [256, 'URI'],
  [257, 'CAA'],
]);

// prettier-ignore
const DNS_RCODE_NAMES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET',
  'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15', 'BADVERS', 'BADKEY',
  'BADTIME', 'BADMODE', 'BADNAME', 'BADALG', 'BADTRUNC', 'BADCOOKIE',
];
