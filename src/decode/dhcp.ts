// DHCP for IPv4: the BOOTP message of RFC 2131 §2 with the options of RFC 2132 and
// the relay agent information option of RFC 3046.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +---------------+---------------+---------------+---------------+
// |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
// +---------------+---------------+---------------+---------------+
// |                            xid (4)                            |
// +-------------------------------+-------------------------------+
// |           secs (2)            |           flags (2)           |
// +-------------------------------+-------------------------------+
// |                          ciaddr  (4)                          |  at 12
// |                          yiaddr  (4)                          |  at 16
// |                          siaddr  (4)                          |  at 20
// |                          giaddr  (4)                          |  at 24
// +---------------------------------------------------------------+
// |                          chaddr  (16)                         |  at 28
// |                          sname   (64)                         |  at 44
// |                          file    (128)                        |  at 108
// +---------------------------------------------------------------+
// |                magic cookie 99.130.83.99 (4)                  |  at 236
// |                options (variable)                             |  at 240
// +---------------------------------------------------------------+
//
// - Fewer than 236 bytes: `dhcp_too_short` (or truncated); the fields present are kept.
//   hlen > 16: `dhcp_hlen_gt_16` (dhcpHlen keeps the value; a reader clamps to 16).
// - No magic cookie (or fewer than 240 bytes): a plain BOOTP message, no options, no
//   anomaly (a cookie cut by the capture: truncated).
// - Options `code | len | value`: pad 0 (one byte), end 255 stops; the area ends with
//   the UDP data. An option (or its length byte) past the end: `dhcp_option_overrun`
//   (or truncated). No end option where snaplen stopped the data: truncated (a list
//   without the end option is otherwise tolerated). Recorded, first occurrence each:
//   53 message type, 54 server id, 50 requested address, 51 lease time, 1 subnet mask, 3 router (first), 6 DNS server
//   (first), 26 interface MTU, 82 relay agent information (presence). A length that
//   does not fit its option: `dhcp_option_bad_len`, the value ignored, the walk goes on.
// - Option overload (52, RFC 2132 §9.3: more options in `file`/`sname`) is not
//   followed: options carried there are not seen.
// - xid and the addresses are unsigned 32-bit numbers (network order).

import { u16be, u32be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { FieldGroup, Layer, type PacketRecord } from './record.js';

export const DHCP_FIXED_LEN = 236;
export const DHCP_MAGIC_COOKIE = 0x63825363;
export const DHCP_OPTIONS_OFFSET = 240;
export const DHCP_MAX_HLEN = 16;

export const DHCP_OPTION_PAD = 0;
export const DHCP_OPTION_SUBNET_MASK = 1;
export const DHCP_OPTION_ROUTER = 3;
export const DHCP_OPTION_DNS_SERVER = 6;
export const DHCP_OPTION_INTERFACE_MTU = 26;
export const DHCP_OPTION_REQUESTED_ADDRESS = 50;
export const DHCP_OPTION_LEASE_TIME = 51;
export const DHCP_OPTION_MESSAGE_TYPE = 53;
export const DHCP_OPTION_SERVER_ID = 54;
export const DHCP_OPTION_RELAY_AGENT = 82;
export const DHCP_OPTION_END = 255;

export const DHCP_DISCOVER = 1;
export const DHCP_OFFER = 2;
export const DHCP_REQUEST = 3;
export const DHCP_DECLINE = 4;
export const DHCP_ACK = 5;
export const DHCP_NAK = 6;
export const DHCP_RELEASE = 7;
export const DHCP_INFORM = 8;

export function decodeDhcp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.touched |= FieldGroup.Dhcp;
  rec.pushLayer(Layer.Dhcp);
  rec.dhcpOff = off;
  const avail = end - off;
  if (avail >= 1) rec.dhcpOp = b[off];
  if (avail >= 3) rec.dhcpHlen = b[off + 2];
  if (avail >= 8) rec.dhcpXid = u32be(b, off + 4);
  if (avail >= 16) rec.dhcpCiaddr = u32be(b, off + 12);
  if (avail >= 20) rec.dhcpYiaddr = u32be(b, off + 16);
  if (avail >= 24) rec.dhcpSiaddr = u32be(b, off + 20);
  if (avail >= 28) rec.dhcpGiaddr = u32be(b, off + 24);
  if (avail >= 44) rec.dhcpChaddrOff = off + 28;
  if (avail < DHCP_FIXED_LEN) {
    markShort(rec, Layer.Dhcp, off, off + DHCP_FIXED_LEN, 'dhcp_too_short');
    return;
  }
  if (rec.dhcpHlen > DHCP_MAX_HLEN) rec.markMalformed(Layer.Dhcp, 'dhcp_hlen_gt_16', off + 2);
  if (avail < DHCP_OPTIONS_OFFSET) {
    if (cutByCapture(rec, off + DHCP_OPTIONS_OFFSET)) rec.markTruncated(Layer.Dhcp, off + DHCP_FIXED_LEN);
    return;
  }
  if (u32be(b, off + DHCP_FIXED_LEN) !== DHCP_MAGIC_COOKIE) return;
  decodeOptions(b, off + DHCP_OPTIONS_OFFSET, end, rec);
}

function decodeOptions(b: Uint8Array, p: number, end: number, rec: PacketRecord): void {
  while (p < end) {
    const code = b[p];
    if (code === DHCP_OPTION_PAD) {
      p++;
      continue;
    }
    if (code === DHCP_OPTION_END) return;
    if (end - p < 2) {
      markShort(rec, Layer.Dhcp, p, p + 2, 'dhcp_option_overrun');
      return;
    }
    const len = b[p + 1];
    const v = p + 2;
    if (end - v < len) {
      markShort(rec, Layer.Dhcp, p, v + len, 'dhcp_option_overrun');
      return;
    }
    switch (code) {
      case DHCP_OPTION_MESSAGE_TYPE:
        if (len !== 1) badLen(rec, p);
        else if (rec.dhcpMsgType < 0) rec.dhcpMsgType = b[v];
        break;
      case DHCP_OPTION_SERVER_ID:
        if (len !== 4) badLen(rec, p);
        else if (rec.dhcpServerId < 0) rec.dhcpServerId = u32be(b, v);
        break;
      case DHCP_OPTION_REQUESTED_ADDRESS:
        if (len !== 4) badLen(rec, p);
        else if (rec.dhcpRequestedIp < 0) rec.dhcpRequestedIp = u32be(b, v);
        break;
      case DHCP_OPTION_LEASE_TIME:
        if (len !== 4) badLen(rec, p);
        else if (rec.dhcpLeaseTime < 0) rec.dhcpLeaseTime = u32be(b, v);
        break;
      case DHCP_OPTION_SUBNET_MASK:
        if (len !== 4) badLen(rec, p);
        else if (rec.dhcpSubnetMask < 0) rec.dhcpSubnetMask = u32be(b, v);
        break;
      case DHCP_OPTION_ROUTER: // a list of addresses, preferred first
        if (len === 0 || len % 4 !== 0) badLen(rec, p);
        else if (rec.dhcpRouter < 0) rec.dhcpRouter = u32be(b, v);
        break;
      case DHCP_OPTION_DNS_SERVER:
        if (len === 0 || len % 4 !== 0) badLen(rec, p);
        else if (rec.dhcpDnsServer < 0) rec.dhcpDnsServer = u32be(b, v);
        break;
      case DHCP_OPTION_INTERFACE_MTU:
        if (len !== 2) badLen(rec, p);
        else if (rec.dhcpMtu < 0) rec.dhcpMtu = u16be(b, v);
        break;
      case DHCP_OPTION_RELAY_AGENT:
        rec.dhcpRelayAgent = true;
        break;
      default:
        break;
    }
    p = v + len;
  }
  // no end option before the data stopped: if the capture stopped it, options were cut
  if (cutByCapture(rec, end + 1)) rec.markTruncated(Layer.Dhcp, end);
}

function badLen(rec: PacketRecord, p: number): void {
  rec.markMalformed(Layer.Dhcp, 'dhcp_option_bad_len', p);
}

// prettier-ignore
const DHCP_MESSAGE_TYPE_NAMES: readonly string[] = [
  '', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM',
  'FORCERENEW', 'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE', 'BULKLEASEQUERY',
  'LEASEQUERYDONE', 'ACTIVELEASEQUERY', 'LEASEQUERYSTATUS', 'TLS',
];

/** Name of a DHCP message type (option 53; RFC 2132 §9.6, later ones from IANA); `TYPE<n>` when unknown. For sinks. */
export function dhcpMessageTypeName(type: number): string {
  return (type >= 1 && DHCP_MESSAGE_TYPE_NAMES[type]) || `TYPE${type}`;
}
