// The one FramedPacket a source fills in for each packet it hands on (no object per
// packet): its fields start out empty, with the types they keep.
import type { FramedPacket } from '../events/types.js';

/**
 * A FramedPacket to fill in again and again. `direction` 0: unknown (pcap records none,
 * libpcap's header does not say on EN10MB).
 */
export function reusedFramedPacket(interfaceId = 0, data: Uint8Array = new Uint8Array(0)): FramedPacket {
  return { interfaceId, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, data, offset: 0, direction: 0 };
}
