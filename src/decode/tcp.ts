// TCP, RFC 9293 (was RFC 793), options from RFC 9293 §3.2 and RFC 7323, RFC 2018.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |       |       |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options (Data Offset * 4 - 20)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// - Fewer than 20 bytes: `tcp_too_short` (or truncated); ports/seq/ack present are kept.
// - Data Offset < 5: `tcp_data_offset_lt_5`; beyond the segment: `tcp_header_overrun`
//   (or truncated: then the options present are still read).
// - Options, `kind` or `kind | length (incl. kind and length) | value`: EOL 0 ends the
//   list, NOP 1, MSS 2 (len 4), window scale 3 (len 3), SACK-permitted 4 (len 2),
//   SACK 5 (len 10/18/26/34), timestamps 8 (len 10); any other kind is skipped by its
//   length. A length < 2, or wrong for a known kind: `tcp_option_bad_len`; an option
//   past the options area: `tcp_option_overrun`. Each step advances ≥ 1 byte.
// - Sequence/acknowledgment numbers are unsigned 32-bit; tcpFlags is the flags byte
//   (the AccECN/NS bit of byte 12 is not included).
// - payloadOff/payloadLen: the segment's data present after the header.
// - DNS over TCP (RFC 1035 §4.2.2, RFC 7766) when either port is 53: a 2-byte length
//   then the message. A segment holding the whole message decodes it with decodeDns;
//   one holding its start decodes what is present (decodeDnsPrefix). A length below
//   the 12-byte DNS header, or a segment with no more than the length, is left alone
//   (it is no message start we can use). No reassembly: a segment continuing an
//   earlier message is read as if it started one, like tshark without desegmenting
//   (the correlator follows the stream to tell them apart: correlate/dns-tcp.ts).
// The checksum is not verified.

import { u16be, u32be } from './bytes.js';
import { markShort } from './dispatch.js';
import { DNS_HEADER_LEN, decodeDns, decodeDnsPrefix } from './dns.js';
import { Layer, type PacketRecord } from './record.js';

export const TCP_MIN_HEADER_LEN = 20;
export const DNS_TCP_PORT = 53;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMPS = 8;

export function decodeTcp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Tcp);
  rec.l4Off = off;
  const avail = end - off;
  if (avail >= 4) {
    rec.srcPort = u16be(b, off);
    rec.dstPort = u16be(b, off + 2);
  }
  if (avail < TCP_MIN_HEADER_LEN) {
    if (avail >= 8) rec.tcpSeq = u32be(b, off + 4);
    if (avail >= 12) rec.tcpAck = u32be(b, off + 8);
    if (avail >= 14) rec.tcpFlags = b[off + 13];
    markShort(rec, Layer.Tcp, off, off + TCP_MIN_HEADER_LEN, 'tcp_too_short');
    return;
  }
  rec.tcpSeq = u32be(b, off + 4);
  rec.tcpAck = u32be(b, off + 8);
  rec.tcpFlags = b[off + 13];
  rec.tcpWindow = u16be(b, off + 14);
  const headerLen = (b[off + 12] >> 4) << 2;
  rec.tcpHeaderLen = headerLen;
  if (headerLen < TCP_MIN_HEADER_LEN) {
    rec.markMalformed(Layer.Tcp, 'tcp_data_offset_lt_5', off + 12);
    return;
  }
  const headerEnd = off + headerLen;
  if (headerEnd > end) {
    markShort(rec, Layer.Tcp, off + 12, headerEnd, 'tcp_header_overrun');
    decodeOptions(b, off + TCP_MIN_HEADER_LEN, end, false, rec);
    return;
  }
  decodeOptions(b, off + TCP_MIN_HEADER_LEN, headerEnd, true, rec);
  const payloadLen = end - headerEnd;
  rec.payloadOff = headerEnd;
  rec.payloadLen = payloadLen;

  if ((rec.srcPort === DNS_TCP_PORT || rec.dstPort === DNS_TCP_PORT) && payloadLen > 2) {
    const messageLen = u16be(b, headerEnd);
    if (messageLen < DNS_HEADER_LEN) return;
    const messageOff = headerEnd + 2;
    const messageEnd = messageOff + messageLen;
    if (messageEnd <= end) decodeDns(b, messageOff, messageEnd, rec);
    else decodeDnsPrefix(b, messageOff, end, rec);
  }
}

/**
 * Options in [p, end). `complete`: `end` is the end of the options area; otherwise the
 * segment stopped inside the header (already marked) and an option running past `end`
 * just ends the walk.
 */
function decodeOptions(b: Uint8Array, p: number, end: number, complete: boolean, rec: PacketRecord): void {
  while (p < end) {
    const kind = b[p];
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (end - p < 2) {
      if (complete) rec.markMalformed(Layer.Tcp, 'tcp_option_overrun', p);
      return;
    }
    const len = b[p + 1];
    if (len < 2) {
      rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
      return;
    }
    if (end - p < len) {
      if (complete) rec.markMalformed(Layer.Tcp, 'tcp_option_overrun', p);
      return;
    }
    switch (kind) {
      case OPT_MSS:
        if (len === 4) rec.tcpMss = u16be(b, p + 2);
        else rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
        break;
      case OPT_WINDOW_SCALE:
        if (len === 3) rec.tcpWindowScale = b[p + 2];
        else rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) rec.tcpSackPermitted = true;
        else rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
        break;
      case OPT_SACK:
        // 1 to 4 blocks of (left edge, right edge), 32 bits each
        if (len < 10 || len > 34 || (len - 2) % 8 !== 0)
          rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
        break;
      case OPT_TIMESTAMPS:
        if (len === 10) rec.tcpTimestamp = true;
        else rec.markMalformed(Layer.Tcp, 'tcp_option_bad_len', p);
        break;
      default:
        break;
    }
    p += len;
  }
}
