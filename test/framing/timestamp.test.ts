import { describe, expect, it } from 'vitest';
import {
  compareTimestamps,
  describeOutOfRange,
  formatTimestamp,
  makeTimestampConverter,
  MAX_TIMESTAMP_SEC,
  parseTimestamp,
  resolutionNs,
  timestampToNanoUnits,
  timestampToUnits,
  unitsToTimestamp,
  type TimestampConverter,
} from '../../src/framing/index.js';
import { seededRandom } from '../support/seeded-random.js';

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

describe('unitsToTimestamp: 64-bit units × resolution + offset, exact or refused, against bigint', () => {
  const MAX = 2n ** 53n - 1n;
  const rnd = seededRandom(5);
  const randomU64 = (): bigint =>
    (BigInt(Math.floor(rnd() * 4294967296)) << 32n) | BigInt(Math.floor(rnd() * 4294967296));
  /** What the conversion must give: the exact time, or null when it is before 1970 or past 2^53 - 1 s. */
  const reference = (units: bigint, per: bigint, offset: bigint): [bigint, bigint] | null => {
    const sec = units / per + offset;
    return sec < 0n || sec > MAX ? null : [sec, ((units % per) * 1_000_000_000n) / per];
  };
  const check = (conv: TimestampConverter, per: bigint, offset: bigint, units: bigint): void => {
    const out = { tsSec: -7, tsNsec: -7 };
    const ok = unitsToTimestamp(conv, Number(units >> 32n), Number(units & 0xffffffffn), out);
    const want = reference(units, per, offset);
    const what = `units ${units}, per ${per}, offset ${offset}`;
    if (want === null) {
      expect([ok, out.tsSec, out.tsNsec], what).toEqual([false, -7, -7]);
    } else {
      expect(ok, what).toBe(true);
      expect(Number.isSafeInteger(out.tsSec) && Number.isSafeInteger(out.tsNsec), what).toBe(true);
      expect([BigInt(out.tsSec), BigInt(out.tsNsec)], what).toEqual(want);
    }
  };
  /** Units at the high words where the number path's range starts and ends, and next to them. */
  const edges = (conv: TimestampConverter): bigint[] =>
    [
      conv.fastHighFrom - 1,
      conv.fastHighFrom,
      conv.fastHighFrom + conv.fastHighSpan - 1,
      conv.fastHighFrom + conv.fastHighSpan,
    ]
      .filter((hi) => hi >= 0 && hi <= 0xffffffff)
      .flatMap((hi) => [BigInt(hi) << 32n, (BigInt(hi) << 32n) | 0xffffffffn]);
  const offsets = [0n, -3n, 3n, 1700000000n, -MAX, MAX, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 62n) + 5n];

  // every if_tsresol byte: 10^-0 .. 10^-127 and 2^-0 .. 2^-127
  for (let v = 0; v < 256; v++) {
    const res = v & 0x80 ? { base: 2 as const, exponent: v & 0x7f } : { base: 10 as const, exponent: v };
    it(`if_tsresol 0x${v.toString(16).padStart(2, '0')} (${res.base}^-${res.exponent})`, () => {
      const per = BigInt(res.base) ** BigInt(res.exponent);
      for (const offset of offsets) {
        const conv = makeTimestampConverter(res, offset);
        const samples = [
          0n,
          1n,
          per - 1n,
          per,
          per + 1n,
          0xffffffffn,
          0x100000000n,
          2n ** 53n - 1n,
          2n ** 53n,
          2n ** 53n + 1n,
          // the edges of the number path: high words 2^21 * per - 1 and 2^21 * per
          ((2n ** 21n * per - 1n) << 32n) | 0xffffffffn,
          (2n ** 21n * per) << 32n,
          // and of the converter's own range, both sides
          ...edges(makeTimestampConverter(res, offset)),
          // the most seconds that fit, and one more, for this offset
          (MAX - offset) * per + per - 1n,
          (MAX - offset + 1n) * per,
          // exactly 1970, and just before
          -offset * per,
          -offset * per - 1n,
          0xffffffffffffffffn,
          ...Array.from({ length: 40 }, randomU64),
        ];
        for (const units of samples)
          if (units >= 0n && units <= 0xffffffffffffffffn) check(conv, per, offset, units);
      }
    });
  }

  it('the long division carries the remainder of the high word into the low (10^-9)', () => {
    const conv = makeTimestampConverter({ base: 10, exponent: 9 });
    const out = { tsSec: 0, tsNsec: 0 };
    // 2^32 ns = 4.294967296 s: the whole remainder of the high word carried
    expect(unitsToTimestamp(conv, 1, 0, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('4.294967296');
    expect(unitsToTimestamp(conv, 0xffffffff, 0xffffffff, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('18446744073.709551615');
  });

  it('whole seconds (10^-0): up to 2^53 - 1 exact, 2^53 refused, a negative offset brings 2^64 - 1 back', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    const secs = makeTimestampConverter({ base: 10, exponent: 0 });
    expect(unitsToTimestamp(secs, 0x1fffff, 0xffffffff, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('9007199254740991.000000000');
    expect(unitsToTimestamp(secs, 0x200000, 0, out)).toBe(false);
    const back = makeTimestampConverter({ base: 10, exponent: 0 }, -(2n ** 64n - 1n - 1700000000n));
    expect(unitsToTimestamp(back, 0xffffffff, 0xffffffff, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('1700000000.000000000');
  });

  it('offsets: a negative one that reaches before 1970 is refused, to 1970 exactly is not', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    const conv = makeTimestampConverter({ base: 10, exponent: 6 }, -1700000000n);
    expect(unitsToTimestamp(conv, 0x00060a24, 0x181e3fff, out)).toBe(false); // 1699999999.999999 s
    expect(unitsToTimestamp(conv, 0x00060a24, 0x181e4000, out)).toBe(true); // 1700000000 s exactly
    expect([out.tsSec, out.tsNsec]).toEqual([0, 0]);
    // the largest positive offset, as a file could give it: refused, never rounded to 9223372036854776000
    const far = makeTimestampConverter({ base: 10, exponent: 6 }, 2n ** 63n - 1n);
    expect(unitsToTimestamp(far, 0, 1, out)).toBe(false);
    expect(describeOutOfRange(far, 0, 1)).toBe(
      '1 × 10^-6 s + if_tsoffset 9223372036854775807 s = 9223372036854775807 s, past the 9007199254740991-second limit',
    );
  });

  it('base 2: 2^-1 up to 2^53 - 1 s on the number path; 2^-127 is always the offset', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    const half = makeTimestampConverter({ base: 2, exponent: 1 });
    expect(unitsToTimestamp(half, 0x3fffff, 0xffffffff, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('9007199254740991.500000000');
    expect(unitsToTimestamp(half, 0x400000, 0, out)).toBe(false);
    const tiny = makeTimestampConverter({ base: 2, exponent: 127 }, 1700000000n);
    expect(unitsToTimestamp(tiny, 0xffffffff, 0xffffffff, out)).toBe(true);
    expect(formatTimestamp(out.tsSec, out.tsNsec)).toBe('1700000000.000000000');
  });

  it('the number path is the one taken for real units and offsets (no bigint per packet)', () => {
    for (const res of [
      { base: 10 as const, exponent: 6 },
      { base: 10 as const, exponent: 9 },
      { base: 2 as const, exponent: 32 },
    ]) {
      const conv = makeTimestampConverter(res, 3600n);
      expect([conv.fastHighFrom, conv.fastHighSpan]).toEqual([0, 2 ** 32]);
    }
    expect(makeTimestampConverter({ base: 10, exponent: 6 }, 2n ** 60n).fastHighSpan).toBe(0);
    expect(MAX_TIMESTAMP_SEC).toBe(Number.MAX_SAFE_INTEGER);
  });
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
