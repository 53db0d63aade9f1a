import { describe, expect, it } from 'vitest';
import { Classified } from '../../src/correlate/classified.js';
import { EARLY_ANSWERS, EarlyAnswers } from '../../src/correlate/early-answers.js';

/** An answer of key slot `slot` told apart by its fingerprint. */
function answer(slot: number, fingerprint: number, check = 1): Classified {
  const c = new Classified();
  c.keySlot = slot;
  c.keyCheck = check;
  c.stage = 1;
  c.fingerprint = fingerprint;
  return c;
}

/** What release hands on for (slot, check): [fingerprint, iface, nsec] each. */
function released(early: EarlyAnswers, slot: number, check = 1, earliestRel = 0): number[][] {
  const out: number[][] = [];
  early.earliestRel = earliestRel;
  early.release(slot, check, (c, iface, _sec, nsec) => out.push([c.fingerprint, iface, nsec]));
  return out;
}

/** Parks `c` read on `iface` at (sec, nsec), `latestRel` on the reference clock. */
function park(
  early: EarlyAnswers,
  c: Classified,
  iface: number,
  sec: number,
  nsec: number,
  latestRel: number,
): void {
  early.sec = sec;
  early.nsec = nsec;
  early.latestRel = latestRel;
  early.park(c, iface);
}

describe('answers waiting for their question', () => {
  it('a key’s answers go on in the order they were read, once; other keys wait on', () => {
    const early = new EarlyAnswers();
    park(early, answer(7, 100), 2, 1, 500, 500);
    park(early, answer(9, 900), 0, 1, 600, 600);
    park(early, answer(7, 101), 3, 1, 700, 700);
    expect(released(early, 7)).toEqual([
      [100, 2, 500],
      [101, 3, 700],
    ]);
    expect(released(early, 7)).toEqual([]);
    expect(early.waitingFor(7)).toBe(false);
    expect(early.waitingFor(9)).toBe(true);
    expect(released(early, 9)).toEqual([[900, 0, 600]]);
    expect(early.waitingFor(9)).toBe(false);
  });

  it('an answer stamped before its question, or of another check, answered something else', () => {
    const early = new EarlyAnswers();
    park(early, answer(7, 100), 0, 1, 0, 100);
    park(early, answer(7, 101, 2), 0, 1, 0, 300);
    park(early, answer(7, 102), 0, 1, 0, 300);
    expect(released(early, 7, 1, 200)).toEqual([[102, 0, 0]]);
  });

  it('bounded: the oldest answers are forgotten first, and a key’s older rows overwritten are not read', () => {
    const early = new EarlyAnswers();
    park(early, answer(7, 1), 0, 1, 0, 0);
    for (let i = 0; i < EARLY_ANSWERS - 1; i++) park(early, answer(1000 + i, i), 0, 1, 0, 0);
    park(early, answer(7, 2), 0, 1, 0, 0);
    // the first answer of key 7 was the oldest row, overwritten by the second
    expect(released(early, 7)).toEqual([[2, 0, 0]]);
    // key 1000's row was the next oldest: still there
    expect(released(early, 1000)).toEqual([[0, 0, 0]]);
    for (let i = 0; i < EARLY_ANSWERS; i++) park(early, answer(5000 + i, i), 0, 1, 0, 0);
    expect(released(early, 1001)).toEqual([]);
    expect(released(early, 5000 + EARLY_ANSWERS - 1)).toEqual([[EARLY_ANSWERS - 1, 0, 0]]);
  });
});
