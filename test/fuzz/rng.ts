// Deterministic pseudo-random numbers for the fuzzer: one 32-bit run seed
// (HOPSCOPE_FUZZ_SEED), from which every iteration derives its own generator, so that
// iteration n of a seed is the same input however long the run and whatever came before.

import { randomInt } from 'node:crypto';

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of stream `n` (an iteration, a target) of run seed `seed`. */
export function mixSeed(seed: number, n: number): number {
  return fmix32((seed ^ fmix32(Math.imul(n >>> 0, 0x9e3779b9) + 0x632be5ab)) >>> 0);
}

/**
 * HOPSCOPE_FUZZ_SEED: decimal or 0x-hex, 32 bits. Absent or empty: a fresh random seed
 * (printed by the test, so a failing run can be replayed).
 */
export function parseSeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return randomInt(1, 0xffffffff);
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`HOPSCOPE_FUZZ_SEED=${text}: not a 32-bit unsigned integer`);
  }
  return value;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator), seeded by splitting one 32-bit seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = mixSeed(seed, 1);
    this.b = mixSeed(seed, 2);
    this.c = mixSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.d = (this.d + 1) | 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Integer in [0, n) for 0 < n <= 2^32; 0 when n <= 0. */
  below(n: number): number {
    if (n <= 1) return 0;
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** Integer in [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.below(hi - lo + 1);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** A size that is usually small: 1..max, each doubling of the size about as likely as the next. */
  smallSize(max: number): number {
    if (max <= 1) return 1;
    const bits = Math.ceil(Math.log2(max + 1));
    const limit = 2 ** this.range(0, bits);
    return Math.min(max, this.range(1, limit));
  }

  fill(b: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) b[i] = this.u32() & 0xff;
  }
}
