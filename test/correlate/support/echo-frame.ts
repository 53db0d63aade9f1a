// An Ethernet/IPv4 ICMP echo frame (request: type 8, reply: type 0) with a fixed payload,
// for correlator tests that feed packets by hand.
export function echoFrame(
  type: number,
  src: number[],
  dst: number[],
  id: number,
  seq: number,
  ttl = 64,
  ipId = 7,
): Uint8Array {
  const b = new Uint8Array(14 + 20 + 8 + 16);
  b.set([2, 0, 0, 0, 0, ttl, 2, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  b.set([0x45, 0, 0, 44, ipId >> 8, ipId & 0xff, 0x40, 0, ttl, 1, 0, 0, ...src, ...dst], 14);
  b.set([type, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff], 34);
  for (let i = 0; i < 16; i++) b[42 + i] = i * 3;
  return b;
}
