// What the correlator learns (docs/verdicts.md: the expected path, timeouts), held in typed arrays: per flow
// direction its expected path and smoothed RTT, per (interface, address) the route on
// from there. Paths are sequences of interface ids, few and shared by many flows, so
// each distinct path is kept once (PathStore) and the tables hold its number.
//
// Both tables are bounded: beyond `limit` keys the oldest learned is forgotten (first
// in, first out — a ring of rows). Nothing is allocated per flow: with a million
// flows, learning churns no objects for the garbage collector.
import { finish30, HASH_SEED, mix } from './hash.js';
import { SlotIndex } from './slot-index.js';

/** Distinct paths kept at most; beyond it everything learned is forgotten at once. */
const MAX_PATHS = 65_536;

/** Distinct paths, each stored once; numbered from 0. */
export class PathStore {
  readonly #paths: number[][] = [];
  /** path hash → numbers of the paths with that hash */
  readonly #byHash = new Map<number, number[]>();

  get size(): number {
    return this.#paths.length;
  }

  path(id: number): readonly number[] {
    return this.#paths[id];
  }

  /**
   * The number of path[from, to) (reversed: read backwards from to - 1 down to from),
   * stored when new — a copy is made only then. -1 when the store is full.
   */
  intern(path: readonly number[], from: number, to: number, reversed: boolean): number {
    let h = HASH_SEED ^ 0x50415448;
    for (let k = 0; k < to - from; k++) h = mix(h, reversed ? path[to - 1 - k] : path[from + k]);
    const key = finish30(mix(h, to - from));
    const ids = this.#byHash.get(key);
    if (ids !== undefined) {
      for (const id of ids) if (samePart(this.#paths[id], path, from, to, reversed)) return id;
    }
    if (this.#paths.length >= MAX_PATHS) return -1;
    const copy = new Array<number>(to - from);
    for (let i = 0; i < to - from; i++) copy[i] = reversed ? path[to - 1 - i] : path[from + i];
    const id = this.#paths.length;
    this.#paths.push(copy);
    if (ids !== undefined) ids.push(id);
    else this.#byHash.set(key, [id]);
    return id;
  }

  clear(): void {
    this.#paths.length = 0;
    this.#byHash.clear();
  }
}

function samePart(
  p: readonly number[],
  path: readonly number[],
  from: number,
  to: number,
  reversed: boolean,
): boolean {
  if (p.length !== to - from) return false;
  for (let i = 0; i < p.length; i++)
    if (p[i] !== (reversed ? path[to - 1 - i] : path[from + i])) return false;
  return true;
}

/**
 * Key (30-bit) → row, at most `limit` keys, the oldest forgotten first. Each row has a
 * path number (-1: none) and a number (the flow's smoothed RTT in ns).
 */
export class LearnedTable {
  /** sized for `limit` keys up front: it fills to that on a busy capture */
  readonly #index: SlotIndex;
  readonly #keyOf: Int32Array;
  readonly path: Int32Array;
  readonly value: Float64Array;
  #used = 0;
  #next = 0;

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`learned table limit must be at least 1, got ${limit}`);
    this.#index = new SlotIndex(limit);
    this.#keyOf = new Int32Array(limit);
    this.path = new Int32Array(limit);
    this.value = new Float64Array(limit);
  }

  get size(): number {
    return this.#index.size;
  }

  /** The key's row, or -1. */
  find(key: number): number {
    return this.#index.get(key);
  }

  /** The key's row, made (empty, the oldest key forgotten when full) when absent. */
  row(key: number): number {
    const found = this.#index.get(key);
    if (found >= 0) return found;
    let r: number;
    if (this.#used < this.limit) r = this.#used++;
    else {
      r = this.#next;
      this.#next = (r + 1) % this.limit;
      this.#index.delete(this.#keyOf[r]);
    }
    this.#keyOf[r] = key;
    this.path[r] = -1;
    this.value[r] = 0;
    this.#index.set(key, r);
    return r;
  }

  /** Forgets every path (the path store was cleared); keys and values stay. */
  forgetPaths(): void {
    this.path.fill(-1);
  }
}
