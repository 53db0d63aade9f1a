// Deterministic pseudo-random numbers for tests that shuffle, cut or mutate: the same
// seed gives the same run, so a failure can be replayed.

/** xorshift32 from `seed` (0 counts as 1): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
