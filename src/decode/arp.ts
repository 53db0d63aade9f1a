// ARP, RFC 826 (and RFC 5227 for probes/announcements, which are ordinary requests);
// RARP (RFC 903, EtherType 0x8035) has the same format.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        hardware type          |        protocol type          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  hw addr len  | proto addr len|          operation            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  sender hardware address (hw addr len bytes) ...              |
// |  sender protocol address (proto addr len bytes) ...           |
// |  target hardware address ...                                  |
// |  target protocol address ...                                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Operation 1 request, 2 reply (3/4 RARP, 8/9 InARP are recorded as their number).
// The record keeps hardware address offsets only for 6-byte (MAC) addresses and
// protocol address offsets only for IPv4 (type 0x0800, length 4), the only forms the
// sinks print; other sizes are walked over, not misread.

import { u16be } from './bytes.js';
import { ETHERTYPE_IPV4, markShort } from './dispatch.js';
import { FieldGroup, Layer, type PacketRecord } from './record.js';

const ARP_FIXED_LEN = 8;

export function decodeArp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.touched |= FieldGroup.Arp;
  rec.pushLayer(Layer.Arp);
  if (end - off < ARP_FIXED_LEN) {
    markShort(rec, Layer.Arp, off, off + ARP_FIXED_LEN, 'arp_too_short');
    return;
  }
  const protocolType = u16be(b, off + 2);
  const hwLen = b[off + 4];
  const protoLen = b[off + 5];
  rec.arpOp = u16be(b, off + 6);
  const need = ARP_FIXED_LEN + 2 * hwLen + 2 * protoLen;
  if (end - off < need) {
    markShort(rec, Layer.Arp, off, off + need, 'arp_too_short');
    return;
  }
  const sha = off + ARP_FIXED_LEN;
  const spa = sha + hwLen;
  const tha = spa + protoLen;
  const tpa = tha + hwLen;
  if (hwLen === 6) {
    rec.arpShaOff = sha;
    rec.arpThaOff = tha;
  }
  if (protoLen === 4 && protocolType === ETHERTYPE_IPV4) {
    rec.arpSpaOff = spa;
    rec.arpTpaOff = tpa;
  }
}
