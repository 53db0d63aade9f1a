// Timestamps as {seconds, nanoseconds} number pairs, and the integer arithmetic that
// turns a capture's 64-bit timestamp units into them. Their text form (decimal
// seconds with nine digits, never a float: docs/json-lines.md) is
// shared/timestamp-text.ts.
//
// Why not one number or a bigint: nanoseconds since 1970 (~1.7e18) exceed 2^53, so a
// double loses them, and a bigint per packet allocates. Every step below keeps its
// intermediate values under 2^53, where doubles are exact integers; the rare inputs
// where that cannot hold (coarse units with a huge count, an offset beyond 2^53 s,
// exotic units) take an exact bigint path, and a time that does not fit is refused.

import type { TimestampResolution } from './types.js';

const NS_PER_SEC = 1_000_000_000;
const TWO_32 = 4294967296;
const TWO_16 = 65536;

/** Where conversions write their result (FramedPacket fits). */
export interface TimestampTarget {
  tsSec: number;
  tsNsec: number;
}

// The text form of a time stamp moved to shared/timestamp-text.ts, where every stage
// may use it; re-exported here for importers not moved yet.
export { formatTimestamp, parseTimestamp } from '../shared/timestamp-text.js';

/** Negative, zero or positive as a is before, equal to or after b. */
export function compareTimestamps(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec !== bSec ? (aSec < bSec ? -1 : 1) : aNsec !== bNsec ? (aNsec < bNsec ? -1 : 1) : 0;
}

/**
 * The latest second a timestamp may have: seconds are JavaScript numbers, exact only
 * up to 2^53 - 1 (year 285 million). A capture time past it, or before 1970, is
 * refused (unitsToTimestamp returns false) rather than printed wrong.
 */
export const MAX_TIMESTAMP_SEC = Number.MAX_SAFE_INTEGER;
const MAX_TIMESTAMP_SEC_BIG = BigInt(MAX_TIMESTAMP_SEC);
const TWO_21_BIG = 1n << 21n;
const TWO_32_BIG = 1n << 32n;
const TWO_53_BIG = 1n << 53n;

/**
 * A timestamp unit prepared once per interface (pcapng IDB, pcap header) so that
 * converting each packet's 64-bit count of units needs no allocation.
 */
export interface TimestampConverter {
  resolution: TimestampResolution;
  /** 0: 10^-n with n <= 9; 1: 2^-n with n <= 32; 2: anything else (bigint, exotic units only) */
  kind: 0 | 1 | 2;
  /** kind 0: units per second (10^n); kind 1: 2^n */
  unitsPerSec: number;
  /** kind 0: nanoseconds per unit (10^(9-n)); kind 1: 2^(9-n), see unitsToTimestamp */
  scale: number;
  /** kind 1: 2^(32-n), seconds per unit of the high word */
  secPerHigh: number;
  /** base^exponent, for the exact (bigint) path */
  unitsPerSecBig: bigint;
  /** if_tsoffset, added to seconds, when it is a safe integer (else 0: the bigint path adds it) */
  offsetSec: number;
  /** if_tsoffset, exactly */
  offsetSecBig: bigint;
  /**
   * The number paths take a high word hi with fastHighFrom <= hi < fastHighFrom +
   * fastHighSpan: there every step is exact and the time is within 0 .. 2^53 - 1 s,
   * so a packet costs one comparison more than before. Outside (a coarse unit with a
   * huge count, a time near either end) the bigint path decides. For real units and
   * offsets the range is every high word: from 0, span 2^32. Span 0 for kind 2 and
   * for an offset beyond 2^53: every time on the bigint path.
   */
  fastHighFrom: number;
  fastHighSpan: number;
}

export function makeTimestampConverter(
  resolution: TimestampResolution,
  offsetSec: number | bigint = 0,
): TimestampConverter {
  const { base, exponent } = resolution;
  const offsetBig = BigInt(offsetSec);
  const offsetSafe = offsetBig >= -MAX_TIMESTAMP_SEC_BIG && offsetBig <= MAX_TIMESTAMP_SEC_BIG;
  let kind: 0 | 1 | 2 = 2;
  let unitsPerSec = 0;
  let scale = 0;
  let secPerHigh = 0;
  if (base === 10 && exponent <= 9) {
    kind = 0;
    unitsPerSec = 10 ** exponent;
    scale = 10 ** (9 - exponent);
  } else if (base === 2 && exponent <= 32) {
    kind = 1;
    unitsPerSec = 2 ** exponent;
    scale = 2 ** (9 - exponent);
    secPerHigh = 2 ** (32 - exponent);
  }
  let fastHighFrom = 0;
  let fastHighSpan = 0;
  if (kind !== 2 && offsetSafe) {
    // With u = units / unitsPerSec and units < (hi + 1) * 2^32:
    //  - the number path is exact while u < 2^53: hi < 2^21 * unitsPerSec;
    //  - u + offset <= 2^53 - 1 while (hi + 1) * 2^32 / unitsPerSec <= 2^53 - offset;
    //  - u + offset >= 0 (a negative offset) once hi * 2^32 / unitsPerSec >= -offset.
    const per = BigInt(unitsPerSec);
    let below = ((TWO_53_BIG - offsetBig) * per) >> 32n;
    if (below > TWO_21_BIG * per) below = TWO_21_BIG * per;
    if (below > TWO_32_BIG) below = TWO_32_BIG;
    const from = offsetBig < 0n ? (-offsetBig * per + TWO_32_BIG - 1n) >> 32n : 0n;
    if (below > from) {
      fastHighFrom = Number(from);
      fastHighSpan = Number(below - from);
    }
  }
  // One literal with every field final: fields assigned after creation can change their
  // representation (a small integer, then 2^32), which slowed every packet's conversion.
  return {
    resolution: { base, exponent },
    kind,
    unitsPerSec,
    scale,
    secPerHigh,
    unitsPerSecBig: BigInt(base) ** BigInt(exponent),
    offsetSec: offsetSafe ? Number(offsetBig) : 0,
    offsetSecBig: offsetBig,
    fastHighFrom,
    fastHighSpan,
  };
}

/**
 * Convert a 64-bit count of units, given as its high and low 32-bit halves, plus the
 * converter's offset, into out.tsSec/out.tsNsec (floor: a fraction of a nanosecond is
 * dropped, as tshark does). Exact for every unit and offset. Returns false, leaving
 * `out` as it was, when the time is before 1970 or its seconds exceed MAX_TIMESTAMP_SEC.
 */
export function unitsToTimestamp(
  conv: TimestampConverter,
  hi: number,
  lo: number,
  out: TimestampTarget,
): boolean {
  // hi within [fastHighFrom, fastHighFrom + fastHighSpan), in one unsigned comparison
  if ((hi - conv.fastHighFrom) >>> 0 < conv.fastHighSpan) {
    if (conv.kind === 0) {
      // Long division of the 64-bit value by d = 10^n <= 1e9 < 2^30, 32 then 16 then
      // 16 bits at a time: each partial dividend is remainder * 2^16 + 16 bits < 2^46.
      const d = conv.unitsPerSec;
      const qHi = Math.floor(hi / d);
      let r = hi - qHi * d;
      const x = r * TWO_16 + (lo >>> 16);
      const q1 = Math.floor(x / d);
      r = x - q1 * d;
      const y = r * TWO_16 + (lo & 0xffff);
      const q2 = Math.floor(y / d);
      r = y - q2 * d;
      out.tsSec = qHi * TWO_32 + q1 * TWO_16 + q2 + conv.offsetSec;
      out.tsNsec = r * conv.scale;
    } else {
      // 2^-n: seconds are the value shifted right by n; the fraction f < 2^n <= 2^32
      // becomes f * 1e9 / 2^n = f * 1953125 * 2^(9-n). f * 1953125 < 2^53 and scaling
      // by a power of two is exact, so the floor is the true one.
      const p = conv.unitsPerSec;
      const secLo = Math.floor(lo / p);
      const frac = lo - secLo * p;
      out.tsSec = hi * conv.secPerHigh + secLo + conv.offsetSec;
      out.tsNsec = Math.floor(frac * 1953125 * conv.scale);
    }
    return true;
  }
  // In bigints: exotic units, a coarse unit with a huge count, a time near either end.
  // (Written here, not called: a function this size is not inlined into the packet
  // readers, which keeps their budget for the byte reads; measured 15 % faster.)
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const per = conv.unitsPerSecBig;
  const sec = units / per + conv.offsetSecBig;
  if (sec < 0n || sec > MAX_TIMESTAMP_SEC_BIG) return false;
  out.tsSec = Number(sec);
  out.tsNsec = Number(((units % per) * 1_000_000_000n) / per);
  return true;
}

/**
 * Why unitsToTimestamp refused a count of units, for the message:
 * `5 × 10^0 s + if_tsoffset -10 s = -5 s, before 1970`. Error path only (bigints).
 */
export function describeOutOfRange(conv: TimestampConverter, hi: number, lo: number): string {
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const { base, exponent } = conv.resolution;
  const sec = units / conv.unitsPerSecBig + conv.offsetSecBig;
  const why = sec < 0n ? 'before 1970' : `past the ${MAX_TIMESTAMP_SEC}-second limit`;
  return `${units} × ${base}^-${exponent} s + if_tsoffset ${conv.offsetSecBig} s = ${sec} s, ${why}`;
}

/**
 * How finely a unit tells time apart, in whole nanoseconds: the unit rounded up, at
 * least 1 (10^-6 → 1000, 10^-9 and finer → 1, 2^-20 s ≈ 953.7 ns → 954).
 */
export function resolutionNs(resolution: TimestampResolution): number {
  const { base, exponent } = resolution;
  if (base === 10) return exponent >= 9 ? 1 : 10 ** (9 - exponent);
  // 2^-n s: 1e9 / 2^n is exact in a double for every n the format allows (n <= 127).
  return Math.max(1, Math.ceil(NS_PER_SEC / 2 ** exponent));
}

/** Where timestampToNanoUnits / timestampToUnits write the 64-bit result. */
export interface Units64 {
  hi: number;
  lo: number;
}

/**
 * sec * 1e9 + nsec as a 64-bit unsigned value in two 32-bit halves (pcapng EPB with
 * if_tsresol 9), without bigint. Requires 0 <= sec < 2^34 (year 2514) and
 * 0 <= nsec < 1e9; returns false otherwise.
 */
export function timestampToNanoUnits(sec: number, nsec: number, out: Units64): boolean {
  return timestampToUnits(sec, nsec, NS_PER_SEC, out);
}

/**
 * sec * unitsPerSec + units (a pcapng timestamp in units of 1/unitsPerSec s, e.g.
 * 1e6 for if_tsresol 6) in two 32-bit halves, without bigint. Requires 1 <=
 * unitsPerSec <= 1e9, 0 <= sec < 2^34 and 0 <= units < unitsPerSec; returns false
 * otherwise.
 */
export function timestampToUnits(sec: number, units: number, unitsPerSec: number, out: Units64): boolean {
  if (!(sec >= 0 && sec < 17179869184 && units >= 0 && units < unitsPerSec && unitsPerSec <= NS_PER_SEC))
    return false;
  // sec = a * 2^16 + b, so sec * u = (a * u) * 2^16 + b * u; with u <= 1e9, a * u < 2^48
  // and b * u + units < 2^47 are exact.
  const a = Math.floor(sec / TWO_16);
  const b = sec - a * TWO_16;
  const y = a * unitsPerSec;
  const x = b * unitsPerSec + units;
  const yHigh = Math.floor(y / TWO_16);
  const low = (y - yHigh * TWO_16) * TWO_16 + (x % TWO_32);
  const lowCarry = Math.floor(low / TWO_32);
  out.lo = low - lowCarry * TWO_32;
  out.hi = yHigh + Math.floor(x / TWO_32) + lowCarry;
  return out.hi < TWO_32;
}
