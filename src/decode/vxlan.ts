// VXLAN, RFC 7348 §5: an Ethernet frame in UDP (port 4789; Linux's default 8472).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|R|R|R|I|R|R|R|                  Reserved                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       VXLAN Network Identifier (VNI)          |   Reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 inner Ethernet frame ...                      |
//
// The VNI is taken whatever the I flag says (as Linux and tshark do). The inner frame
// becomes the innermost packet (dispatch.ts enterTunnel); its Ethernet header replaces
// the outer MACs and VLAN tags in the record.
// Anomalies: `vxlan_too_short`, `tunnel_too_deep`.

import { u24be } from './bytes.js';
import { clearLink, enterTunnel, markShort } from './dispatch.js';
import { decodeEthernet } from './ethernet.js';
import { Layer, type PacketRecord, TunnelType } from './record.js';

export const VXLAN_HEADER_LEN = 8;

export function decodeVxlan(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Vxlan);
  if (end - off < VXLAN_HEADER_LEN) {
    markShort(rec, Layer.Vxlan, off, off + VXLAN_HEADER_LEN, 'vxlan_too_short');
    return;
  }
  if (!enterTunnel(rec, TunnelType.Vxlan, u24be(b, off + 4), Layer.Vxlan, off)) return;
  clearLink(rec);
  decodeEthernet(b, off + VXLAN_HEADER_LEN, end, rec);
}
