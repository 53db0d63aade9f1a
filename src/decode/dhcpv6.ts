// DHCPv6, RFC 8415 §8 (client/server messages) and §9 (relay agent/server messages).
//
// Client/server message:
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |    msg-type   |               transaction-id                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            options                            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Relay message (RELAY-FORW 12, RELAY-REPL 13):
// |    msg-type   |   hop-count   |  link-address (16)  |  peer-address (16)  |  options
//
// Options: | option-code (16) | option-len (16) | option-data |
//
// - dhcpv6MsgType always; dhcpv6TransactionId (24 bits) for client/server messages.
//   Relay messages record only their type (the relayed message inside option 9 is not
//   decoded).
// - Fewer than 4 bytes (client/server) or 34 (relay): `dhcpv6_too_short` (or truncated).
// - The options are walked (each step ≥ 4 bytes) to check their lengths: an option
//   past the end is `dhcpv6_option_overrun` (or truncated).

import { u16be, u24be } from './bytes.js';
import { markShort } from './dispatch.js';
import { Layer, type PacketRecord } from './record.js';

export const DHCPV6_HEADER_LEN = 4;
export const DHCPV6_RELAY_HEADER_LEN = 34;
export const DHCPV6_OPTION_HEADER_LEN = 4;

export const DHCPV6_RELAY_FORW = 12;
export const DHCPV6_RELAY_REPL = 13;

export function decodeDhcpv6(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Dhcpv6);
  const avail = end - off;
  if (avail < 1) {
    markShort(rec, Layer.Dhcpv6, off, off + 1, 'dhcpv6_too_short');
    return;
  }
  const type = b[off];
  rec.dhcpv6MsgType = type;
  const relay = type === DHCPV6_RELAY_FORW || type === DHCPV6_RELAY_REPL;
  const headerLen = relay ? DHCPV6_RELAY_HEADER_LEN : DHCPV6_HEADER_LEN;
  if (avail < headerLen) {
    markShort(rec, Layer.Dhcpv6, off, off + headerLen, 'dhcpv6_too_short');
    return;
  }
  if (!relay) rec.dhcpv6TransactionId = u24be(b, off + 1);
  let p = off + headerLen;
  while (p < end) {
    if (end - p < DHCPV6_OPTION_HEADER_LEN) {
      markShort(rec, Layer.Dhcpv6, p, p + DHCPV6_OPTION_HEADER_LEN, 'dhcpv6_option_overrun');
      return;
    }
    const next = p + DHCPV6_OPTION_HEADER_LEN + u16be(b, p + 2);
    if (next > end) {
      markShort(rec, Layer.Dhcpv6, p, next, 'dhcpv6_option_overrun');
      return;
    }
    p = next;
  }
}

// prettier-ignore
const DHCPV6_MESSAGE_TYPE_NAMES: readonly string[] = [
  '', 'SOLICIT', 'ADVERTISE', 'REQUEST', 'CONFIRM', 'RENEW', 'REBIND', 'REPLY', 'RELEASE', 'DECLINE',
  'RECONFIGURE', 'INFORMATION-REQUEST', 'RELAY-FORW', 'RELAY-REPL',
];

/** Name of a DHCPv6 message type (RFC 8415 §7.3); `TYPE<n>` when unknown. For sinks. */
export function dhcpv6MessageTypeName(type: number): string {
  return (type >= 1 && DHCPV6_MESSAGE_TYPE_NAMES[type]) || `TYPE${type}`;
}
