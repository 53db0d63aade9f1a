// The fuzzer's mutations: AFL-style byte operations (bit flips, bytes set to 0x00 /
// 0xff / random, small additions, interesting values, truncation, extension, chunk
// insertion, deletion and duplication, splicing two inputs), aimed where they matter:
// packet mutations favour the header offsets the decoder itself reported for the
// unmutated packet (anchors), file mutations the fields capture-layout.ts located
// (lengths, types, magics, option codes and lengths) and whole records and blocks.

import type { CaptureLayout, FieldAnchor, FieldKind } from './capture-layout.js';
import type { Rng } from './rng.js';

/** Inputs never grow beyond these (an IPv6 jumbogram and the largest corpus file fit). */
export const MAX_PACKET_BYTES = 256 * 1024;
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

// Values that sit on boundaries, and the protocol numbers that switch a decoder to
// another path (EtherTypes, IP protocols, ports, DNS compression pointers).
const INTERESTING_8 = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0f, 0x10, 0x11, 0x14, 0x29, 0x2b, 0x2c, 0x2f, 0x32,
  0x33, 0x3a, 0x3b, 0x3c, 0x3f, 0x40, 0x41, 0x45, 0x46, 0x4f, 0x5f, 0x60, 0x7f, 0x80, 0x81, 0x84, 0x87, 0xc0,
  0xfe, 0xff,
];
const INTERESTING_16 = [
  0x0000, 0x0001, 0x0002, 0x0004, 0x0008, 0x000c, 0x0010, 0x0014, 0x0028, 0x003f, 0x0040, 0x007f, 0x0080,
  0x00ff, 0x0100, 0x05dc, 0x05dd, 0x0600, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xc000, 0xc00c, 0xffbf, 0xfffe,
  0xffff, 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x6558, 0x88be, 0x22eb, 0x880b, 0x8847, 0x0035,
  0x14e9, 0x12b5, 0x17c1, 0x0043, 0x0044, 0x0222, 0x0223, 0x14eb,
];
const INTERESTING_32 = [
  0x00000000, 0x00000001, 0x0000007f, 0x00000080, 0x000000ff, 0x00000100, 0x0000ffff, 0x00010000, 0x00040000,
  0x00040001, 0x00ffffff, 0x01000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

const SHB = 0x0a0d0d0a;
const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34, 0xd4c3b2a1, 0x4d3cb2a1, 0x34cdb2a1];
const FIELD_VALUES: Record<FieldKind, readonly number[]> = {
  magic: [...PCAP_MAGICS, 0x1a2b3c4d, 0x4d3c2b1a, SHB, 0, 0xffffffff, 0x1f8b0800],
  version: [0, 1, 2, 3, 4, 5, 0x21f, 0x100, 0xffff],
  length: [
    0, 1, 3, 4, 8, 11, 12, 13, 15, 16, 20, 24, 28, 31, 32, 36, 0xfff, 0x7fff, 0xffff, 0x10000, 0x3fffc,
    0x40000, 0x40001, 0x40010, 0xfffffc, 0x1000000, 0x1000004, 0x7ffffffc, 0x7fffffff, 0x80000000, 0xfffffffc,
    0xffffffff,
  ],
  blockType: [SHB, 1, 2, 3, 4, 5, 6, 7, 9, 10, 0x0bad, 0x40000bad, 0x80000001, 0, 0xffffffff],
  linktype: [
    0, 1, 9, 101, 108, 113, 228, 229, 231, 249, 276, 279, 0xffff, 0x04000001, 0x30000001, 0x00300000,
    0xf4000001,
  ],
  snaplen: [0, 1, 14, 64, 0xffff, 0x40000, 0x40001, 0x1000000, 0x1000001, 0x7fffffff, 0xffffffff],
  interfaceId: [0, 1, 2, 3, 125, 126, 127, 0xffff, 0x10000, 0xffffffff],
  time: [0, 1, 999999, 1000000, 999999999, 1000000000, 0x7fffffff, 0x80000000, 0xffffffff],
  optionCode: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 0x0bac, 0x0bad, 0x4bac, 0x4bad, 0x8000, 0xffff],
  optionLength: [0, 1, 2, 3, 4, 5, 7, 8, 9, 0xff, 0x100, 0xfffc, 0xffff],
  tsresol: [0, 1, 3, 6, 9, 10, 19, 0x3f, 0x7f, 0x80, 0x88, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xff],
  other: [],
};

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes the low `width` bytes of `value` (a 32-bit number; 8-byte fields get a sign-extended high half). */
export function writeField(
  b: Uint8Array,
  off: number,
  width: 1 | 2 | 4 | 8,
  le: boolean,
  value: number,
): void {
  if (off < 0 || off + width > b.length) return;
  const bytes: number[] = [];
  const lo = value >>> 0;
  for (let i = 0; i < Math.min(width, 4); i++) bytes.push((lo >>> (8 * i)) & 0xff);
  if (width === 8) {
    const hi = value < 0 || value === 0xffffffff ? 0xff : 0;
    for (let i = 4; i < 8; i++) bytes.push(hi);
  }
  for (let i = 0; i < width; i++) b[off + (le ? i : width - 1 - i)] = bytes[i];
}

function readField(b: Uint8Array, off: number, width: 1 | 2 | 4 | 8, le: boolean): number {
  let v = 0;
  const n = Math.min(width, 4);
  for (let i = 0; i < n; i++) {
    const byte = b[off + (le ? i : width - 1 - i)] ?? 0;
    v += byte * 2 ** (8 * i);
  }
  return v;
}

/** A random width and byte order (network order twice as likely) for a field at `off`. */
function someWidth(rng: Rng): { width: 1 | 2 | 4; le: boolean } {
  const r = rng.below(6);
  return { width: r < 2 ? 1 : r < 5 ? 2 : 4, le: rng.chance(0.25) };
}

function interestingFor(rng: Rng, width: 1 | 2 | 4 | 8): number {
  return width === 1
    ? rng.pick(INTERESTING_8)
    : width === 2
      ? rng.pick(INTERESTING_16)
      : rng.pick(INTERESTING_32);
}

/** A position: near an anchor (a header the decoder found) when there are any, else anywhere. */
function position(rng: Rng, length: number, anchors: ArrayLike<number> | null): number {
  if (length <= 0) return 0;
  if (anchors !== null && anchors.length > 0 && rng.chance(0.7)) {
    const at = anchors[rng.below(anchors.length)] + (rng.chance(0.5) ? rng.below(4) : rng.below(24));
    if (at < length) return at;
  }
  return rng.below(length);
}

/** One byte-level mutation; returns the (possibly new) array. `other` supplies a splice partner. */
export function mutateBytes(
  rng: Rng,
  b: Uint8Array,
  anchors: ArrayLike<number> | null,
  other: () => Uint8Array,
  maxBytes: number,
): Uint8Array {
  const n = b.length;
  const op = rng.below(100);
  if (n === 0 && op < 60) return concat(b, randomBytes(rng, rng.smallSize(64)));
  if (op < 12) {
    // bit flips
    const flips = rng.smallSize(8);
    for (let i = 0; i < flips; i++) {
      const at = position(rng, n, anchors);
      b[at] ^= 1 << rng.below(8);
    }
    return b;
  }
  if (op < 22) {
    // bytes set to 0x00, 0xff or random
    const count = rng.smallSize(4);
    const mode = rng.below(3);
    for (let i = 0; i < count; i++) {
      const at = position(rng, n, anchors);
      b[at] = mode === 0 ? 0 : mode === 1 ? 0xff : rng.below(256);
    }
    return b;
  }
  if (op < 42) {
    // an interesting value in what may be a length, type or count field
    const at = position(rng, n, anchors);
    const { width, le } = someWidth(rng);
    writeField(b, at, width, le, interestingFor(rng, width));
    return b;
  }
  if (op < 54) {
    // small addition / subtraction (lengths off by a few)
    const at = position(rng, n, anchors);
    const { width, le } = someWidth(rng);
    if (at + width > n) return b;
    const delta = rng.range(1, 35) * (rng.chance(0.5) ? 1 : -1);
    writeField(b, at, width, le, (readField(b, at, width, le) + delta) >>> 0);
    return b;
  }
  if (op < 64) {
    // truncation: mostly near the end or just after a header start
    if (rng.chance(0.5)) return b.subarray(0, Math.max(0, n - rng.smallSize(n)));
    return b.subarray(0, position(rng, n, anchors) + (rng.chance(0.5) ? 0 : 1));
  }
  if (op < 70) {
    // extension: zeros, 0xff, random bytes, or a copy of the input's own start
    const add = Math.min(maxBytes - n, rng.smallSize(rng.chance(0.9) ? 64 : 4096));
    if (add <= 0) return b;
    const mode = rng.below(4);
    const tail = mode === 3 ? b.slice(0, Math.min(add, n)) : new Uint8Array(add).fill(mode === 1 ? 0xff : 0);
    if (mode === 2) rng.fill(tail, 0, tail.length);
    return concat(b, tail);
  }
  if (op < 76) {
    // insert random bytes
    const at = position(rng, n + 1, anchors);
    const add = Math.min(maxBytes - n, rng.smallSize(16));
    if (add <= 0) return b;
    return concat(b.subarray(0, at), randomBytes(rng, add), b.subarray(at));
  }
  if (op < 84) {
    // delete a chunk
    const at = position(rng, n, anchors);
    const len = Math.min(n - at, rng.smallSize(32));
    return concat(b.subarray(0, at), b.subarray(at + len));
  }
  if (op < 93) {
    // duplicate a chunk, sometimes many times (nested headers, long option lists)
    const from = position(rng, n, anchors);
    const len = Math.min(n - from, rng.smallSize(64));
    const times = rng.chance(0.1) ? rng.range(2, 300) : rng.range(1, 2);
    const room = Math.floor((maxBytes - n) / Math.max(1, len));
    const k = Math.min(times, room);
    if (len === 0 || k <= 0) return b;
    const chunk = b.slice(from, from + len);
    const copies = new Uint8Array(len * k);
    for (let i = 0; i < k; i++) copies.set(chunk, i * len);
    const at = rng.chance(0.5) ? from : position(rng, n + 1, anchors);
    return concat(b.subarray(0, at), copies, b.subarray(at));
  }
  // splice: this input's start with another one's end, or a piece of the other inserted
  const o = other();
  if (o.length === 0) return b;
  if (rng.chance(0.6)) {
    const cut = position(rng, n + 1, anchors);
    const from = rng.below(o.length);
    return concat(b.subarray(0, cut), o.subarray(from, from + Math.max(0, maxBytes - cut)));
  }
  const from = rng.below(o.length);
  const len = Math.min(o.length - from, rng.smallSize(256), maxBytes - n);
  if (len <= 0) return b;
  const at = position(rng, n + 1, anchors);
  return concat(b.subarray(0, at), o.subarray(from, from + len), b.subarray(at));
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  rng.fill(b, 0, n);
  return b;
}

/**
 * A mutated copy of a packet: 1 to 6 byte mutations (sometimes one plain cut),
 * favouring the packet's anchors (offsets of its headers, relative to its start).
 */
export function mutatePacket(
  rng: Rng,
  packet: Uint8Array,
  anchors: ArrayLike<number>,
  other: () => Uint8Array,
): Uint8Array {
  let b: Uint8Array = packet.slice();
  if (rng.chance(0.08)) return b.subarray(0, rng.below(b.length + 1));
  const ops = rng.smallSize(6);
  for (let i = 0; i < ops; i++) b = mutateBytes(rng, b, anchors, other, MAX_PACKET_BYTES);
  return b;
}

/** A value for a located file field: one of its kind's interesting values, the generic ones, or near its own. */
function fieldValue(rng: Rng, b: Uint8Array, field: FieldAnchor): number {
  const own = FIELD_VALUES[field.kind];
  const r = rng.below(10);
  if (r < 5 && own.length > 0) return rng.pick(own);
  if (r < 8) {
    const current = readField(b, field.off, field.width, field.le);
    const delta =
      field.kind === 'length' || field.kind === 'optionLength'
        ? rng.pick([1, 2, 3, 4, 8, 12, 16])
        : rng.range(1, 35);
    return (current + (rng.chance(0.5) ? delta : -delta)) >>> 0;
  }
  return interestingFor(rng, field.width);
}

/**
 * A mutated copy of a capture file: located fields set to interesting values, then
 * perhaps one structural change to its records/blocks (delete, duplicate, swap,
 * insert one from another file, append another file, cut inside one), then perhaps a
 * few byte mutations and a cut.
 */
export function mutateFile(
  rng: Rng,
  file: Uint8Array,
  layout: CaptureLayout,
  other: () => { bytes: Uint8Array; layout: CaptureLayout },
): Uint8Array {
  let b: Uint8Array = file.slice();
  // 1. fields (no size change: the layout still holds)
  const fieldOps = layout.fields.length === 0 ? 0 : rng.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < fieldOps; i++) {
    const field = pickField(rng, layout);
    writeField(b, field.off, field.width, field.le, fieldValue(rng, b, field));
  }
  // 2. records / blocks
  const units = layout.units;
  if (units.length > 0 && rng.chance(0.4)) b = mutateUnits(rng, b, units, other);
  // 3. bytes, mostly in the first bytes of a record or block
  if (rng.chance(fieldOps === 0 ? 0.7 : 0.3)) {
    const anchors = units.map((u) => u.start);
    const ops = rng.smallSize(4);
    for (let i = 0; i < ops; i++) b = mutateBytes(rng, b, anchors, () => other().bytes, MAX_FILE_BYTES);
  }
  // 4. a cut: near a unit boundary or anywhere
  if (rng.chance(0.15)) {
    const at =
      units.length > 0 && rng.chance(0.6)
        ? rng.pick(units).start + rng.range(-3, 16)
        : rng.below(b.length + 1);
    b = b.subarray(0, Math.max(0, Math.min(b.length, at)));
  }
  return b;
}

/**
 * Packet records and blocks are most of a file; pick the header fields of rarer units
 * as often. A bad magic or version ends a read at once, so those are picked less.
 */
function pickField(rng: Rng, layout: CaptureLayout): FieldAnchor {
  const field = pickAnyField(rng, layout);
  return (field.kind === 'magic' || field.kind === 'version') && rng.chance(0.6)
    ? pickAnyField(rng, layout)
    : field;
}

function pickAnyField(rng: Rng, layout: CaptureLayout): FieldAnchor {
  const fields = layout.fields;
  if (rng.chance(0.5)) {
    // within the first few units (file header, SHB, IDBs) where one field changes everything
    const firstUnits = layout.units.slice(0, 4);
    const end = firstUnits.length > 0 ? firstUnits[firstUnits.length - 1].end : 0;
    const early = fields.filter((f) => f.off < end);
    if (early.length > 0) return rng.pick(early);
  }
  return rng.pick(fields);
}

function mutateUnits(
  rng: Rng,
  b: Uint8Array,
  units: CaptureLayout['units'],
  other: () => { bytes: Uint8Array; layout: CaptureLayout },
): Uint8Array {
  const u = rng.pick(units);
  const unit = b.subarray(u.start, Math.min(u.end, b.length));
  switch (rng.below(6)) {
    case 0: // delete a unit
      return concat(b.subarray(0, u.start), b.subarray(u.end));
    case 1: {
      // duplicate a unit, sometimes many times
      const times = rng.chance(0.1) ? rng.range(2, 50) : 1;
      const k = Math.max(
        0,
        Math.min(times, Math.floor((MAX_FILE_BYTES - b.length) / Math.max(1, unit.length))),
      );
      const parts: Uint8Array[] = [b.subarray(0, u.end)];
      for (let i = 0; i < k; i++) parts.push(unit);
      parts.push(b.subarray(u.end));
      return concat(...parts);
    }
    case 2: {
      // swap two units
      const v = rng.pick(units);
      if (v.start === u.start) return b;
      const [x, y] = u.start < v.start ? [u, v] : [v, u];
      return concat(
        b.subarray(0, x.start),
        b.subarray(y.start, y.end),
        b.subarray(x.end, y.start),
        b.subarray(x.start, x.end),
        b.subarray(y.end),
      );
    }
    case 3: {
      // insert a unit of another file (an IDB of another link type, a big-endian SHB, a record)
      const o = other();
      if (o.layout.units.length === 0) return b;
      const w = rng.pick(o.layout.units);
      if (b.length + (w.end - w.start) > MAX_FILE_BYTES) return b;
      const at = rng.chance(0.5) ? u.start : u.end;
      return concat(b.subarray(0, at), o.bytes.subarray(w.start, w.end), b.subarray(at));
    }
    case 4: {
      // another whole file after this one (pcapng: a second section)
      const o = other();
      if (b.length + o.bytes.length > MAX_FILE_BYTES) return b;
      return concat(b, o.bytes);
    }
    default:
      // cut inside a unit (the stream stops mid-record)
      return b.subarray(0, Math.min(b.length, u.start + rng.below(Math.max(1, u.end - u.start))));
  }
}

/**
 * How a file is pushed into CaptureReader: the chunk sizes, cycled. At most about
 * 20 000 pushes per file so that one big file does not stall the run.
 */
export function chunkSizes(rng: Rng, length: number): number[] {
  const floor = Math.max(1, Math.ceil(length / 20000));
  const mode = rng.below(4);
  if (mode === 0) return [Math.max(1, length)];
  const count = rng.range(1, 8);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const size =
      mode === 1
        ? rng.range(1, 16)
        : mode === 2
          ? rng.smallSize(65536)
          : rng.pick([1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32]);
    sizes.push(Math.max(floor, size));
  }
  return sizes;
}
