// Unsigned integer reads and writes on a plain byte array at an offset.
//
// Capture files carry their own byte order (pcap: the writer's host order, told by
// the magic; pcapng: per section, told by the byte-order magic), so every read
// takes `le`. Reading bytes directly is what keeps the framing hot path free of
// DataView objects per chunk and of any allocation per packet.

/** 16-bit unsigned at `o`. */
export function readU16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

/** 32-bit unsigned at `o` (as a non-negative number). */
export function readU32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * 64-bit unsigned at `o` as a number. Exact below 2^53, which every counter a
 * capture file holds (packets received, dropped) stays under.
 */
export function readU64(b: Uint8Array, o: number, le: boolean): number {
  const first = readU32(b, o, le);
  const second = readU32(b, o + 4, le);
  return le ? second * 4294967296 + first : first * 4294967296 + second;
}

/** 64-bit two's-complement signed at `o`, exactly, as a bigint (setup paths only). */
export function readI64(b: Uint8Array, o: number, le: boolean): bigint {
  const first = BigInt(readU32(b, o, le));
  const second = BigInt(readU32(b, o + 4, le));
  return BigInt.asIntN(64, le ? (second << 32n) | first : (first << 32n) | second);
}

export function writeU16LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function writeU32LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Round up to the 32-bit boundary pcapng pads every field to. */
export function pad4(n: number): number {
  // `n & 3` keeps the low bits right for any integer below 2^53 (unlike `(n + 3) & ~3`,
  // which wraps above 2^31 and would turn a damaged length into a small one).
  return n + ((4 - (n & 3)) & 3);
}

/** `0x` + 8 hex digits, for error messages about magic numbers and block types. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Packets up to this many bytes are copied by a loop; larger ones by TypedArray.set. */
const COPY_LOOP_MAX = 512;

/**
 * Copies src[from, from + len) to dst at `at`. A packet is copied by a plain loop: a
 * subarray view per packet (what set() needs) was a hot path's largest allocation.
 */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len <= COPY_LOOP_MAX) for (let k = 0; k < len; k++) dst[at + k] = src[from + k];
  else dst.set(src.subarray(from, from + len), at);
}
