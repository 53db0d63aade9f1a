// pcapng blocks built field by field (little-endian), for tests that need many of them
// or values a hex fixture would hide: a million IDBs, 64-bit times and offsets.

export type PcapngOption = [code: number, value: Buffer];

function options(list: readonly PcapngOption[]): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [code, value] of list) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  body.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

/** Section Header Block, version 1.0, unknown section length. */
export function shb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body);
}

/** Interface Description Block: EN10MB, snaplen 65535. */
export function idb(opts: readonly PcapngOption[] = []): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(1, 0);
  fixed.writeUInt32LE(65535, 4);
  return block(1, Buffer.concat([fixed, options(opts)]));
}

/** Enhanced Packet Block on `iface` with a 64-bit timestamp of `units`. */
export function epb(iface: number, units: bigint, data: Buffer = Buffer.from([1, 2, 3, 4])): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(iface, 0);
  fixed.writeUInt32LE(Number(units >> 32n), 4);
  fixed.writeUInt32LE(Number(units & 0xffffffffn), 8);
  fixed.writeUInt32LE(data.length, 12);
  fixed.writeUInt32LE(data.length, 16);
  return block(6, Buffer.concat([fixed, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
}

/** Interface Statistics Block for `iface` (its own timestamp 0). */
export function isb(iface: number, opts: readonly PcapngOption[]): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(iface, 0);
  return block(5, Buffer.concat([fixed, options(opts)]));
}

export const text = (code: number, s: string): PcapngOption => [code, Buffer.from(s)];
export const u64 = (code: number, v: bigint): PcapngOption => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return [code, b];
};
/** isb_starttime / isb_endtime: a 64-bit count of units as two 32-bit words, high first. */
export const time64 = (code: number, units: bigint): PcapngOption => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(Number(units >> 32n), 0);
  b.writeUInt32LE(Number(units & 0xffffffffn), 4);
  return [code, b];
};
/** if_tsresol: the byte as the file stores it (bit 7: base 2). */
export const tsresol = (v: number): PcapngOption => [9, Buffer.from([v])];
/** if_tsoffset, signed 64-bit seconds. */
export const tsoffset = (v: bigint): PcapngOption => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return [14, b];
};

/** `count` identical IDBs without options, written in one buffer (20 bytes each). */
export function manyIdbs(count: number): Buffer {
  const one = idb();
  const b = Buffer.alloc(one.length * count);
  b.fill(one);
  return b;
}
