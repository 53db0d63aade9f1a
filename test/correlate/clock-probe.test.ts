// The clocks of a replay's hosts from the packets they share (clock-probe.ts): bounds
// from the TTL where a router lay between them, the median otherwise, chains through a
// host in the middle, and a flat memory however many packets.
import { describe, expect, it } from 'vitest';
import { Classified } from '../../src/correlate/classify.js';
import { ClockProbe, MAX_FINGERPRINTS, MIN_UNCERTAINTY_NS } from '../../src/correlate/clock-probe.js';

const BASE_SEC = 1_700_000_000;

/** Feeds one packet (fingerprint `fp`) seen on interface `iface` at `ns` on that host's own clock. */
function see(probe: ClockProbe, fp: number, ttl: number, iface: number, ns: number): void {
  const c = new Classified();
  c.fingerprint = fp;
  c.ttl = ttl;
  const sec = Math.floor(ns / 1e9);
  probe.packet(c, iface, BASE_SEC + sec, ns - sec * 1e9);
}

/** A probe of hosts a (reference, interface 0), r (1) and b (2). */
function threeHosts(): ClockProbe {
  const probe = new ClockProbe();
  probe.interface(0, 'a');
  probe.interface(1, 'r');
  probe.interface(2, 'b');
  return probe;
}

const contains = (o: { loNs: number; hiNs: number }, ns: number): boolean => o.loNs <= ns && ns <= o.hiNs;

describe('clock probe', () => {
  it('a router between two hosts: the TTL tells the way, and both ways bound the offset tightly', () => {
    const probe = new ClockProbe();
    probe.interface(0, 'a');
    probe.interface(1, 'b');
    const offset = 2_000_000_000; // b 2 s ahead
    for (let i = 0; i < 10; i++) {
      const t = 1e9 + i * 1e8;
      // a → b through a router: 40 µs, the TTL one lower at b
      see(probe, 100 + i, 64, 0, t);
      see(probe, 100 + i, 63, 1, t + 40_000 + offset);
      // b → a: 30 µs
      see(probe, 200 + i, 64, 1, t + 5e6 + offset);
      see(probe, 200 + i, 63, 0, t + 5e6 + 30_000);
    }
    const [b] = probe.offsets();
    expect(b.host).toBe('b');
    expect(contains(b, offset)).toBe(true);
    // within the two delays (plus the stamps' resolution)
    expect(b.hiNs - b.loNs).toBeLessThanOrEqual(70_000 + 4);
    expect(b.shared).toBe(20);
  });

  it('one segment (the same TTL on both): the median, within at least a one-way delay', () => {
    const probe = new ClockProbe();
    probe.interface(0, 'a');
    probe.interface(1, 'b', 1000);
    const offset = -3_500_000_000;
    for (let i = 0; i < 20; i++) {
      const t = 1e9 + i * 1e7;
      see(probe, 300 + i, 64, 0, t);
      see(probe, 300 + i, 64, 1, t + offset + (i % 2 === 0 ? 20_000 : -20_000));
    }
    // a collision: a fingerprint seen on both hosts a second apart
    see(probe, 999, 64, 0, 5e9);
    see(probe, 999, 64, 1, 6e9 + offset);
    const [b] = probe.offsets();
    expect(contains(b, offset)).toBe(true);
    expect(b.hiNs - b.loNs).toBeGreaterThanOrEqual(2 * MIN_UNCERTAINTY_NS);
    expect(b.hiNs - b.loNs).toBeLessThan(2 * MIN_UNCERTAINTY_NS + 100_000);
  });

  it('a host that shares packets only with a host in the middle is reached through it', () => {
    const probe = threeHosts();
    const r = -1_500_000_000;
    const b = 2_000_000_000;
    for (let i = 0; i < 5; i++) {
      const t = 1e9 + i * 1e8;
      // a → r (same TTL), r → b (routed): a and b never see the same packet
      see(probe, 400 + i, 64, 0, t);
      see(probe, 400 + i, 64, 1, t + r + 10_000);
      see(probe, 500 + i, 64, 1, t + r + 1e6);
      see(probe, 500 + i, 63, 2, t + b + 1e6 + 10_000);
      see(probe, 600 + i, 64, 2, t + b + 2e6);
      see(probe, 600 + i, 63, 1, t + r + 2e6 + 10_000);
    }
    const offsets = probe.offsets();
    expect(offsets.map((o) => o.host)).toEqual(['r', 'b']);
    expect(contains(offsets[0], r)).toBe(true);
    expect(contains(offsets[1], b)).toBe(true);
  });

  it('fewer than three packets in common, or none: no offset', () => {
    const probe = threeHosts();
    see(probe, 700, 64, 0, 1e9);
    see(probe, 700, 64, 1, 1e9 + 5);
    see(probe, 701, 64, 0, 1e9 + 10);
    see(probe, 701, 64, 1, 1e9 + 15);
    see(probe, 702, 64, 2, 1e9 + 20);
    // no IP header (an ARP request: the same bytes each time): not counted
    see(probe, 703, -1, 0, 1e9 + 30);
    see(probe, 703, -1, 1, 1e9 + 35);
    expect(probe.offsets()).toEqual([]);
  });

  it('memory stays flat: beyond its bound, a sample of fingerprints kept alike on every host', () => {
    const probe = new ClockProbe();
    probe.interface(0, 'a');
    probe.interface(1, 'b');
    const offset = 7_000_000_000;
    const n = MAX_FINGERPRINTS * 4;
    for (let i = 1; i <= n; i++) {
      // (a hash's bits: spread)
      const fp = Math.imul(i, 0x9e3779b1) | 0;
      const t = 1e9 + i * 1000;
      see(probe, fp, 64, 0, t);
      see(probe, fp, 63, 1, t + offset + 50_000);
      // the other way
      see(probe, fp ^ 0x5bd1e995, 64, 1, t + offset + 500);
      see(probe, fp ^ 0x5bd1e995, 63, 0, t + 550);
    }
    const [b] = probe.offsets();
    expect(contains(b, offset)).toBe(true);
    expect(b.shared).toBeLessThanOrEqual(MAX_FINGERPRINTS);
    expect(b.shared).toBeGreaterThan(MAX_FINGERPRINTS / 8);
  });
});
