// Timestamps as {seconds, nanoseconds} number pairs (DESIGN §3: decimal seconds with
// nine digits, never a float), and the integer arithmetic that turns a capture's
// 64-bit timestamp units into them.
//
// Why not one number or a bigint: nanoseconds since 1970 (~1.7e18) exceed 2^53, so a
// double loses them, and a bigint per packet allocates. Every step below keeps its
// intermediate values under 2^53, where doubles are exact integers.

import type { TimestampResolution } from './types.js';

const NS_PER_SEC = 1_000_000_000;
const TWO_32 = 4294967296;
const TWO_16 = 65536;

/** Where conversions write their result (FramedPacket fits). */
export interface TimestampTarget {
  tsSec: number;
  tsNsec: number;
}

/** `1700000000.123456789`: whole seconds, a dot, nine digits; negative times as `-0.500000000`. */
export function formatTimestamp(sec: number, nsec: number): string {
  if (sec < 0 && nsec > 0) {
    // {-1, 5e8} is -1 + 0.5 = -0.5: print the magnitude, not "-1.500000000".
    return `-${-sec - 1}.${String(NS_PER_SEC - nsec).padStart(9, '0')}`;
  }
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** Inverse of formatTimestamp; accepts 0-9 fraction digits. Throws on anything else. */
export function parseTimestamp(text: string): { sec: number; nsec: number } {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (m === null) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const whole = Number(m[2]);
  const frac = m[3] !== undefined ? Number(m[3].padEnd(9, '0')) : 0;
  if (m[1] === '-' && (whole > 0 || frac > 0)) {
    return frac > 0 ? { sec: -whole - 1, nsec: NS_PER_SEC - frac } : { sec: -whole, nsec: 0 };
  }
  return { sec: whole, nsec: frac };
}

/** Negative, zero or positive as a is before, equal to or after b. */
export function compareTimestamps(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec !== bSec ? (aSec < bSec ? -1 : 1) : aNsec !== bNsec ? (aNsec < bNsec ? -1 : 1) : 0;
}

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
  /** kind 2 */
  unitsPerSecBig: bigint;
  /** if_tsoffset, added to seconds */
  offsetSec: number;
}

export function makeTimestampConverter(resolution: TimestampResolution, offsetSec = 0): TimestampConverter {
  const { base, exponent } = resolution;
  const conv: TimestampConverter = {
    resolution: { base, exponent },
    kind: 2,
    unitsPerSec: 0,
    scale: 0,
    secPerHigh: 0,
    unitsPerSecBig: BigInt(base) ** BigInt(exponent),
    offsetSec,
  };
  if (base === 10 && exponent <= 9) {
    conv.kind = 0;
    conv.unitsPerSec = 10 ** exponent;
    conv.scale = 10 ** (9 - exponent);
  } else if (base === 2 && exponent <= 32) {
    conv.kind = 1;
    conv.unitsPerSec = 2 ** exponent;
    conv.scale = 2 ** (9 - exponent);
    conv.secPerHigh = 2 ** (32 - exponent);
  }
  return conv;
}

/**
 * Convert a 64-bit count of units, given as its high and low 32-bit halves, into
 * out.tsSec/out.tsNsec (floor: a fraction of a nanosecond is dropped, as tshark does).
 */
export function unitsToTimestamp(
  conv: TimestampConverter,
  hi: number,
  lo: number,
  out: TimestampTarget,
): void {
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
  } else if (conv.kind === 1) {
    // 2^-n: seconds are the value shifted right by n; the fraction f < 2^n <= 2^32
    // becomes f * 1e9 / 2^n = f * 1953125 * 2^(9-n). f * 1953125 < 2^53 and scaling
    // by a power of two is exact, so the floor is the true one.
    const p = conv.unitsPerSec;
    const secLo = Math.floor(lo / p);
    const frac = lo - secLo * p;
    out.tsSec = hi * conv.secPerHigh + secLo + conv.offsetSec;
    out.tsNsec = Math.floor(frac * 1953125 * conv.scale);
  } else {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const per = conv.unitsPerSecBig;
    out.tsSec = Number(units / per) + conv.offsetSec;
    out.tsNsec = Number(((units % per) * 1_000_000_000n) / per);
  }
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
