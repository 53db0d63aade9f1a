// Shrinks a failing input to a small one that fails the same way (same problem
// signature), for a reproducer one can read: first the shortest failing prefix found
// by bisection, then chunks removed (halves, quarters, ... single bytes) while the
// failure stays. Bounded by a deadline; returns the smallest input found by then.

import { performance } from 'node:perf_hooks';

function without(b: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(b.length - n);
  out.set(b.subarray(0, at), 0);
  out.set(b.subarray(at + n), at);
  return out;
}

export function minimizeBytes(
  input: Uint8Array,
  fails: (candidate: Uint8Array) => boolean,
  deadline: number,
): Uint8Array {
  let cur = input;
  const expired = (): boolean => performance.now() > deadline;
  // shortest failing prefix (a bisection: failures mostly sit at one place)
  let lo = 0;
  let hi = cur.length;
  while (hi - lo > 1 && !expired()) {
    const mid = (lo + hi) >>> 1;
    if (fails(cur.subarray(0, mid))) hi = mid;
    else lo = mid;
  }
  if (hi < cur.length && fails(cur.subarray(0, hi))) cur = cur.slice(0, hi);
  // chunk removal, repeated while it helps
  for (let progress = true; progress && !expired();) {
    progress = false;
    for (
      let chunk = 2 ** Math.floor(Math.log2(Math.max(1, cur.length >>> 1)));
      chunk >= 1 && !expired();
      chunk >>>= 1
    ) {
      for (let at = cur.length - chunk; at >= 0 && !expired(); at -= chunk) {
        const candidate = without(cur, at, chunk);
        if (fails(candidate)) {
          cur = candidate;
          progress = true;
        }
      }
    }
  }
  return cur;
}
