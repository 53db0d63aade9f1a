import { describe, expect, it } from 'vitest';
import {
  compareTimestamps,
  formatTimestamp,
  makeTimestampConverter,
  parseTimestamp,
  resolutionNs,
  timestampToNanoUnits,
  timestampToUnits,
  unitsToTimestamp,
} from '../../src/framing/index.js';
import { seededRandom } from './support.js';

describe('formatTimestamp / parseTimestamp', () => {
  it('nine digits, no float', () => {
    expect(formatTimestamp(1700000000, 123456789)).toBe('1700000000.123456789');
    expect(formatTimestamp(1700000000, 5)).toBe('1700000000.000000005');
    expect(formatTimestamp(0, 0)).toBe('0.000000000');
    // 2^53 + 1 nanoseconds would already be lost as one float; as a pair it is exact
    expect(formatTimestamp(9007199, 254740993)).toBe('9007199.254740993');
  });

  it('negative times read as a human would: {-1, 5e8} is -0.5 s', () => {
    expect(formatTimestamp(-1, 500000000)).toBe('-0.500000000');
    expect(formatTimestamp(-2, 0)).toBe('-2.000000000');
    expect(parseTimestamp('-0.500000000')).toEqual({ sec: -1, nsec: 500000000 });
  });

  it('parse is the inverse of format, and accepts shorter fractions', () => {
    const rnd = seededRandom(11);
    for (let i = 0; i < 1000; i++) {
      const sec = Math.floor(rnd() * 4e9) - 2e9;
      const nsec = Math.floor(rnd() * 1e9);
      expect(parseTimestamp(formatTimestamp(sec, nsec))).toEqual({ sec, nsec });
    }
    expect(parseTimestamp('12.5')).toEqual({ sec: 12, nsec: 500000000 });
    expect(parseTimestamp('12')).toEqual({ sec: 12, nsec: 0 });
    expect(() => parseTimestamp('1.2.3')).toThrow(/not a timestamp/);
  });

  it('compareTimestamps orders by seconds, then nanoseconds', () => {
    expect(compareTimestamps(1, 999999999, 2, 0)).toBeLessThan(0);
    expect(compareTimestamps(2, 1, 2, 0)).toBeGreaterThan(0);
    expect(compareTimestamps(2, 7, 2, 7)).toBe(0);
    const list = [
      [3, 1],
      [1, 2],
      [1, 1],
      [-1, 900000000],
    ];
    list.sort((a, b) => compareTimestamps(a[0], a[1], b[0], b[1]));
    expect(list).toEqual([
      [-1, 900000000],
      [1, 1],
      [1, 2],
      [3, 1],
    ]);
  });
});

describe('unitsToTimestamp: 64-bit units to seconds + nanoseconds, checked against bigint', () => {
  const resolutions: Array<{ base: 10 | 2; exponent: number }> = [
    ...[0, 1, 3, 6, 7, 9, 10, 12, 15, 19, 25].map((exponent) => ({ base: 10 as const, exponent })),
    ...[0, 1, 8, 9, 10, 20, 30, 31, 32, 33, 40, 63].map((exponent) => ({ base: 2 as const, exponent })),
  ];
  const rnd = seededRandom(5);
  const randomU64 = (): bigint =>
    (BigInt(Math.floor(rnd() * 4294967296)) << 32n) | BigInt(Math.floor(rnd() * 4294967296));
  for (const res of resolutions) {
    it(`${res.base}^-${res.exponent}`, () => {
      const per = BigInt(res.base) ** BigInt(res.exponent);
      const conv = makeTimestampConverter(res, -3);
      const out = { tsSec: 0, tsNsec: 0 };
      const samples = [
        0n,
        1n,
        per - 1n,
        per,
        per + 1n,
        0xffffffffn,
        0x100000000n,
        0xffffffffffffffffn,
        ...Array.from({ length: 300 }, randomU64),
      ];
      for (const units of samples.map((u) => u & 0xffffffffffffffffn)) {
        unitsToTimestamp(conv, Number(units >> 32n), Number(units & 0xffffffffn), out);
        const sec = units / per - 3n;
        const nsec = ((units % per) * 1_000_000_000n) / per;
        // seconds above 2^53 cannot be exact as numbers (and are past any real clock)
        if (sec < 2n ** 53n) expect([BigInt(out.tsSec), BigInt(out.tsNsec)], `${units}`).toEqual([sec, nsec]);
      }
    });
  }
});

describe('timestampToNanoUnits (writer side)', () => {
  it('splits sec * 1e9 + nsec into 32-bit halves exactly', () => {
    const rnd = seededRandom(9);
    const out = { hi: 0, lo: 0 };
    for (let i = 0; i < 2000; i++) {
      const sec = i === 0 ? 17179869183 : Math.floor(rnd() * 17179869184);
      const nsec = i === 1 ? 999999999 : Math.floor(rnd() * 1e9);
      expect(timestampToNanoUnits(sec, nsec, out)).toBe(true);
      const want = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
      expect((BigInt(out.hi) << 32n) | BigInt(out.lo)).toBe(want);
    }
  });

  it('refuses what 64-bit nanoseconds cannot hold, and negative times', () => {
    const out = { hi: 0, lo: 0 };
    expect(timestampToNanoUnits(-1, 0, out)).toBe(false);
    expect(timestampToNanoUnits(0, 1e9, out)).toBe(false);
    expect(timestampToNanoUnits(2 ** 35, 0, out)).toBe(false);
  });
});

describe('timestampToUnits (writer side, an interface in microseconds or coarser)', () => {
  it('splits sec * 10^n + units into 32-bit halves exactly, for every decimal unit', () => {
    const rnd = seededRandom(11);
    const out = { hi: 0, lo: 0 };
    for (let n = 0; n <= 9; n++) {
      const perSec = 10 ** n;
      for (let i = 0; i < 300; i++) {
        const sec = i === 0 ? 17179869183 : Math.floor(rnd() * 17179869184);
        const units = i === 1 ? perSec - 1 : Math.floor(rnd() * perSec);
        expect(timestampToUnits(sec, units, perSec, out)).toBe(true);
        expect((BigInt(out.hi) << 32n) | BigInt(out.lo)).toBe(BigInt(sec) * BigInt(perSec) + BigInt(units));
      }
    }
    expect(timestampToUnits(1, 1e6, 1e6, out)).toBe(false);
    expect(timestampToUnits(1, 0, 1e10, out)).toBe(false);
  });
});

describe('resolutionNs: what a unit can tell apart, in whole ns', () => {
  it('10^-n: 10^(9-n) ns, at least 1; 2^-n: rounded up', () => {
    expect(resolutionNs({ base: 10, exponent: 6 })).toBe(1000);
    expect(resolutionNs({ base: 10, exponent: 9 })).toBe(1);
    expect(resolutionNs({ base: 10, exponent: 0 })).toBe(1e9);
    expect(resolutionNs({ base: 10, exponent: 12 })).toBe(1);
    expect(resolutionNs({ base: 2, exponent: 8 })).toBe(3906250); // exactly 1e9 / 256
    expect(resolutionNs({ base: 2, exponent: 20 })).toBe(954); // 953.67…
    expect(resolutionNs({ base: 2, exponent: 30 })).toBe(1); // 0.93…
    expect(resolutionNs({ base: 2, exponent: 127 })).toBe(1);
    expect(resolutionNs({ base: 2, exponent: 0 })).toBe(1e9);
  });
});
