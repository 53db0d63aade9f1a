// TimeOrderBuffer: items held for a window and released in timestamp order (sec,
// then nsec, then arrival) once they are stamped before the horizon.
import { describe, expect, it } from 'vitest';
import { TimeOrderBuffer } from '../../src/sources/time-order.js';

function released<T>(buffer: TimeOrderBuffer<T>, horizonSec: number): T[] {
  const out: T[] = [];
  buffer.release(horizonSec, (item) => out.push(item));
  return out;
}

function drained<T>(buffer: TimeOrderBuffer<T>): T[] {
  const out: T[] = [];
  buffer.drain((item) => out.push(item));
  return out;
}

describe('TimeOrderBuffer', () => {
  it('starts empty; release and drain of nothing emit nothing', () => {
    const b = new TimeOrderBuffer<string>();
    expect(b.size).toBe(0);
    expect(released(b, 1e12)).toEqual([]);
    expect(drained(b)).toEqual([]);
  });

  it('releases what is stamped before the horizon, in timestamp order, and keeps the rest', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(10, 500_000_000, '10.5');
    b.push(10, 100_000_000, '10.1');
    b.push(11, 0, '11.0');
    b.push(9, 999_999_999, '9.999999999');
    expect(b.size).toBe(4);

    expect(released(b, 10.3)).toEqual(['9.999999999', '10.1']);
    expect(b.size).toBe(2);
    // An item stamped exactly at the horizon is not before it.
    expect(released(b, 11)).toEqual(['10.5']);
    expect(b.size).toBe(1);
    expect(drained(b)).toEqual(['11.0']);
    expect(b.size).toBe(0);
  });

  it('a horizon before everything releases nothing', () => {
    const b = new TimeOrderBuffer<number>();
    b.push(100, 0, 1);
    b.push(200, 0, 2);
    expect(released(b, 99.999)).toEqual([]);
    expect(released(b, 100)).toEqual([]);
    expect(b.size).toBe(2);
    expect(released(b, 150)).toEqual([1]);
    expect(b.size).toBe(1);
  });

  it('orders by seconds first, then nanoseconds numerically', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(2, 1, '2.000000001');
    b.push(1, 999_999_999, '1.999999999');
    b.push(1, 10, '1.00000001');
    b.push(1, 9, '1.000000009');
    b.push(0, 999_999_999, '0.999999999');
    expect(drained(b)).toEqual(['0.999999999', '1.000000009', '1.00000001', '1.999999999', '2.000000001']);
  });

  it('equal stamps keep arrival order', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(5, 7, 'a');
    b.push(6, 0, 'late');
    b.push(5, 7, 'b');
    b.push(4, 0, 'early');
    b.push(5, 7, 'c');
    expect(drained(b)).toEqual(['early', 'a', 'b', 'c', 'late']);
  });

  it('equal stamps keep arrival order across releases', () => {
    const b = new TimeOrderBuffer<string>();
    for (let i = 0; i < 50; i++) b.push(5, 7, `x${i}`);
    b.push(9, 0, 'later');
    expect(released(b, 5)).toEqual([]);
    for (let i = 50; i < 100; i++) b.push(5, 7, `x${i}`);
    expect(released(b, 6)).toEqual(Array.from({ length: 100 }, (_, i) => `x${i}`));
    expect(drained(b)).toEqual(['later']);
  });

  it('an item that arrives after a release, stamped earlier than what is held, comes out first next time', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(10, 0, 'ten');
    b.push(20, 0, 'twenty');
    expect(released(b, 15)).toEqual(['ten']);
    b.push(12, 0, 'twelve');
    b.push(16, 0, 'sixteen');
    expect(released(b, 30)).toEqual(['twelve', 'sixteen', 'twenty']);
  });

  it('nanoseconds across a second boundary, small stamps', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(2, 0, '2.000000000');
    b.push(1, 999_999_999, '1.999999999');
    b.push(2, 1, '2.000000001');
    b.push(1, 999_999_998, '1.999999998');
    expect(released(b, 2)).toEqual(['1.999999998', '1.999999999']);
    expect(released(b, 2.0000000015)).toEqual(['2.000000000', '2.000000001']);
    expect(b.size).toBe(0);
  });

  it('nanoseconds across a second boundary, epoch stamps: order is exact', () => {
    const s = 1_700_000_000;
    const b = new TimeOrderBuffer<string>();
    b.push(s + 1, 1, 'B+1ns');
    b.push(s + 1, 0, 'B');
    b.push(s, 999_999_999, 'B-1ns');
    b.push(s, 999_999_998, 'B-2ns');
    expect(drained(b)).toEqual(['B-2ns', 'B-1ns', 'B', 'B+1ns']);
  });

  it('nanoseconds across a second boundary, epoch stamps: a stamp 1 ns before the horizon is released', () => {
    // A float of sec + nsec/1e9 near 1.7e9 has a step of ~238 ns, so
    // 1700000000 + 0.999999999 rounds to 1700000001 and would compare as not before it.
    const s = 1_700_000_000;
    const b = new TimeOrderBuffer<string>();
    b.push(s, 999_999_999, 'B-1ns');
    b.push(s + 1, 0, 'B');
    expect(released(b, s + 1)).toEqual(['B-1ns']);
    expect(b.size).toBe(1);
  });

  it('with epoch stamps and a sub-second horizon, what is well before it is released and the rest stays', () => {
    const s = 1_700_000_000;
    const b = new TimeOrderBuffer<string>();
    b.push(s, 250_000_000, 'q1');
    b.push(s, 750_000_000, 'q3');
    b.push(s, 500_000_000, 'q2');
    b.push(s + 1, 0, 'next');
    expect(released(b, s + 0.6)).toEqual(['q1', 'q2']);
    expect(b.size).toBe(2);
    expect(drained(b)).toEqual(['q3', 'next']);
  });

  it('drain emits everything, however far ahead, and empties the buffer', () => {
    const b = new TimeOrderBuffer<number>();
    const stamps = [
      [4_000_000_000, 5],
      [0, 0],
      [1_700_000_000, 123_456_789],
      [1_700_000_000, 123_456_788],
    ] as const;
    stamps.forEach(([sec, nsec], i) => b.push(sec, nsec, i));
    expect(drained(b)).toEqual([1, 3, 2, 0]);
    expect(b.size).toBe(0);
    expect(drained(b)).toEqual([]);
  });

  it('keeps working after a drain', () => {
    const b = new TimeOrderBuffer<string>();
    b.push(1, 0, 'a');
    drained(b);
    b.push(3, 0, 'c');
    b.push(2, 0, 'b');
    expect(released(b, 2.5)).toEqual(['b']);
    expect(drained(b)).toEqual(['c']);
  });

  it('holds a large shuffled batch and releases it sorted', () => {
    const b = new TimeOrderBuffer<number>();
    const n = 1000;
    // A fixed permutation (multiplication by a unit mod n), no randomness.
    for (let i = 0; i < n; i++) {
      const k = (i * 7919) % n;
      b.push(100 + Math.floor(k / 10), (k % 10) * 100_000_000, k);
    }
    const first = released(b, 150);
    expect(first).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(drained(b)).toEqual(Array.from({ length: 500 }, (_, i) => 500 + i));
  });
});
