// How the kernel rings of local captures share their total (src/sources/ring-budget.ts);
// that the kernel maps these sizes is checked for real in test/cli/capture-ring-budget.test.ts.
import { describe, expect, it } from 'vitest';
import {
  formatRingBytes,
  mappedRingBytes,
  RING_DEFAULT_BYTES,
  RING_FLOOR_BYTES,
  RING_TOTAL_BYTES,
  RingBudget,
} from '../../src/sources/ring-budget.js';

const MiB = 1024 * 1024;

describe('RingBudget', () => {
  it('gives each interface the default while the total allows, and says nothing', () => {
    const budget = new RingBudget(undefined);
    expect(budget.plan(32)).toBeNull();
    expect(budget.perInterface).toBe(RING_DEFAULT_BYTES);
    expect(budget.sizeFor(31, 31 * RING_DEFAULT_BYTES)).toEqual({ bytes: RING_DEFAULT_BYTES, notice: null });
  });

  it('divides 256 MiB among many, in whole 256 KiB blocks, and says so', () => {
    const budget = new RingBudget(undefined);
    expect(budget.plan(146)).toBe(
      '146 interfaces: kernel buffer 1.75 MiB each (255.5 MiB in all, within 256 MiB; -B to change)',
    );
    expect(budget.perInterface).toBe(1.75 * MiB);
    expect(146 * budget.perInterface).toBeLessThanOrEqual(RING_TOTAL_BYTES);
  });

  it('never goes below the floor, and says the total is then over the cap', () => {
    const budget = new RingBudget(undefined);
    expect(budget.plan(300)).toBe(
      '300 interfaces: kernel buffer 1 MiB each, the least it is scaled to (300 MiB in all, over 256 MiB; -B to change)',
    );
    expect(budget.perInterface).toBe(RING_FLOOR_BYTES);
  });

  it('gives later interfaces what is left of the total, at least the floor, and says it once', () => {
    const budget = new RingBudget(undefined);
    budget.plan(146);
    // 146 × 1.75 MiB open: 0.5 MiB left, so the floor, said once.
    const first = budget.sizeFor(146, 146 * 1.75 * MiB);
    expect(first.bytes).toBe(RING_FLOOR_BYTES);
    expect(first.notice).toMatch(/^147 interfaces: kernel buffer 1 MiB for this one/);
    budget.told();
    expect(budget.sizeFor(147, 146 * 1.75 * MiB + MiB)).toEqual({ bytes: RING_FLOOR_BYTES, notice: null });
    // Rings closed meanwhile (interfaces gone) leave room again.
    expect(budget.sizeFor(100, 100 * 1.75 * MiB).bytes).toBe(1.75 * MiB);
  });

  it('keeps an explicit -B per interface, warning once when the total is over the cap', () => {
    const budget = new RingBudget(8 * MiB);
    expect(budget.plan(146)).toBe(
      'warning: 146 interfaces: kernel buffer 8 MiB each (-B) is 1168 MiB in all, over the 256 MiB hopscope takes without -B',
    );
    expect(budget.sizeFor(146, 146 * 8 * MiB)).toEqual({ bytes: 8 * MiB, notice: null });

    const small = new RingBudget(2 * MiB);
    expect(small.plan(100)).toBeNull();
    const over = small.sizeFor(128, 128 * 2 * MiB);
    expect(over.bytes).toBe(2 * MiB);
    expect(over.notice).toBe(
      'warning: 129 interfaces: kernel buffer 2 MiB each (-B) is now 258 MiB in all, over the 256 MiB hopscope takes without -B',
    );
  });

  it('counts what the kernel maps: whole 256 KiB blocks', () => {
    expect(mappedRingBytes(1000 * 1024)).toBe(MiB);
    expect(mappedRingBytes(1)).toBe(256 * 1024);
    expect(formatRingBytes(512 * 1024)).toBe('512 KiB');
    expect(formatRingBytes(1.75 * MiB)).toBe('1.75 MiB');
  });
});
