// The order of a packet's hops (hop-order.ts) from each kind of evidence on its own, and
// from their conflicts: what the network shows wins over what the clocks say.
import { describe, expect, it } from 'vitest';
import { HopOrder, MAX_HOPS, NO_TTL } from '../../src/correlate/hop-order.js';

interface Hop {
  iface: number;
  host?: number;
  /** on its own host's clock, ns */
  time: number;
  ttl?: number;
  resolution?: number;
  /** the host's offset (subtracted for the reference clock) and its uncertainty */
  offset?: number;
  clockError?: number;
  tunnelled?: boolean;
  roundTrip?: number;
  holdsSource?: boolean;
  holdsDestination?: boolean;
  /** the interface owns the frame's source / destination MAC */
  ownsFrameSource?: boolean;
  ownsFrameDestination?: boolean;
  hasAddresses?: boolean;
  rank?: number;
  /** the capture it is seen through (the devices of one `any` capture share one); default its own */
  capture?: number;
}

/** Orders `hops` (given in arrival order) and returns their interfaces in path order. */
function order(
  hops: Hop[],
  options: {
    roundTripSign?: number;
    hints?: Array<[number[], boolean]>;
    routes?: Array<[number, number[], boolean]>;
    clock?: boolean;
  } = {},
): number[] {
  const h = new HopOrder();
  h.begin(hops.length);
  hops.forEach((hop, i) => {
    h.iface[i] = hop.iface;
    h.host[i] = hop.host ?? 0;
    h.time[i] = hop.time;
    h.refTime[i] = hop.time - (hop.offset ?? 0);
    h.clockError[i] =
      hop.host === undefined || hop.host === 0 ? 0 : (hop.clockError ?? Number.POSITIVE_INFINITY);
    h.resolution[i] = hop.resolution ?? 1;
    h.ttl[i] = hop.ttl ?? NO_TTL;
    h.tunnelled[i] = hop.tunnelled === true ? 1 : 0;
    h.roundTrip[i] = hop.roundTrip ?? Number.NaN;
    h.holdsSource[i] = hop.holdsSource === true ? 1 : 0;
    h.holdsDestination[i] = hop.holdsDestination === true ? 1 : 0;
    h.ownsFrameSource[i] = hop.ownsFrameSource === true ? 1 : 0;
    h.ownsFrameDestination[i] = hop.ownsFrameDestination === true ? 1 : 0;
    h.hasAddresses[i] = hop.hasAddresses === true ? 1 : 0;
    h.rank[i] = hop.rank ?? hop.iface;
    h.capture[i] = hop.capture ?? 1000 + hop.iface;
  });
  h.roundTripSign = options.roundTripSign ?? 0;
  h.addNetworkEvidence();
  for (const [path, reversed] of options.hints ?? []) h.addPathHint(path, reversed);
  for (const [from, route, backwards] of options.routes ?? []) h.addRouteHint(from, route, backwards);
  if (options.clock !== false) h.addClockEvidence();
  h.finish();
  return Array.from(h.order.subarray(0, hops.length), (i) => hops[i].iface);
}

describe('HopOrder', () => {
  it('on one ns clock, time orders hops that differ by more than the resolution', () => {
    expect(
      order([
        { iface: 3, time: 300 },
        { iface: 1, time: 100 },
        { iface: 2, time: 200 },
      ]),
    ).toEqual([1, 2, 3]);
  });

  it('a frame starts where its source MAC lives and ends where its destination MAC does, within one routed hop', () => {
    // a VM's echo to its gateway: the tap (announced last) and the bridge that owns the
    // gateway's MAC stamp it the same nanosecond; routed, it leaves by eth1
    const request = [
      { iface: 2, time: 100, ttl: 64, ownsFrameDestination: true, rank: 0 },
      { iface: 1, time: 100, ttl: 64, rank: 1 },
      { iface: 3, time: 150, ttl: 63, rank: 2 },
    ];
    expect(order(request, { clock: false })).toEqual([1, 2, 3]);
    // the reply, sent by the bridge (its MAC the frame's source): the bridge, then the tap
    const reply = [
      { iface: 1, time: 500, ttl: 63, rank: 0 },
      { iface: 2, time: 500, ttl: 63, ownsFrameSource: true, rank: 1 },
      { iface: 3, time: 450, ttl: 64, rank: 2 },
    ];
    expect(order(reply, { clock: false })).toEqual([3, 2, 1]);
    // a bridge that took the MAC of its port (the tap): the one with addresses owns it
    const shared = [
      { iface: 2, time: 100, ttl: 64, ownsFrameDestination: true, hasAddresses: true, rank: 0 },
      { iface: 1, time: 100, ttl: 64, ownsFrameDestination: true, rank: 1 },
    ];
    expect(order(shared, { clock: false })).toEqual([1, 2]);
    // two that own it and hold addresses (or none does): nothing is said
    for (const hasAddresses of [true, false]) {
      const neither = [
        { iface: 2, time: 100, ttl: 64, ownsFrameDestination: true, hasAddresses, rank: 0 },
        { iface: 1, time: 100, ttl: 64, ownsFrameDestination: true, hasAddresses, rank: 1 },
      ];
      expect(order(neither, { clock: false })).toEqual([2, 1]);
    }
    // the MAC owner of one hop says nothing of another hop (another TTL)
    const otherHop = [
      { iface: 5, time: 100, ttl: 63, rank: 0 },
      { iface: 4, time: 100, ttl: 64, ownsFrameDestination: true, rank: 1 },
    ];
    expect(order(otherHop, { clock: false })).toEqual([4, 5]);
  });

  it('stamps that tie on two devices of one capture (any): the order it was handed them', () => {
    // a bridged packet keeps its stamp: the tap, then the bridge, then (routed) eth1;
    // the bridge was announced first
    const tap = { iface: 5, time: 100, rank: 1 };
    const bridge = { iface: 7, time: 100, rank: 0 };
    const eth1 = { iface: 6, time: 140, rank: 2 };
    const oneCapture = (hops: Hop[]) =>
      order(
        hops.map((h) => ({ ...h, capture: 0 })),
        { clock: false },
      );
    expect(oneCapture([tap, bridge, eth1])).toEqual([5, 7, 6]);
    expect(oneCapture([bridge, tap, eth1])).toEqual([7, 5, 6]);
    // captures of their own say nothing by arriving first: announcement order, as before
    expect(order([tap, bridge, eth1], { clock: false })).toEqual([7, 5, 6]);
  });

  it('a µs source: stamps 1 µs apart say nothing, 2 µs apart do', () => {
    // equal rank order would say 1, 2: time must not reverse it, nor confirm the wrong one
    const tied = order(
      [
        { iface: 2, time: 1000, resolution: 1000, rank: 0 },
        { iface: 1, time: 2000, resolution: 1000, rank: 1 },
      ],
      { clock: false },
    );
    expect(tied).toEqual([2, 1]); // undecided: announcement order
    expect(
      order([
        { iface: 2, time: 3000, resolution: 1000, rank: 0 },
        { iface: 1, time: 1000, resolution: 1000, rank: 1 },
      ]),
    ).toEqual([1, 2]);
  });

  it('a routed hop lowers the TTL: higher TTL first, across hosts, whatever their clocks say', () => {
    // host 1's clock is 0.3 s behind and its offset unknown
    const hops: Hop[] = [
      { iface: 10, host: 1, time: 5_000 - 3e8, ttl: 63 },
      { iface: 1, host: 0, time: 5_000, ttl: 64 },
    ];
    expect(order(hops)).toEqual([1, 10]);
  });

  it('the TTL wins over a clock that contradicts it', () => {
    expect(
      order([
        { iface: 1, time: 100, ttl: 63 },
        { iface: 2, time: 200, ttl: 64 },
      ]),
    ).toEqual([2, 1]);
  });

  it('nested round trips order hops that share a stamp: the asker’s side sees the longer one', () => {
    // tap and bridge stamp the request in the same ns; the reply comes back through the bridge first
    const request: Hop[] = [
      { iface: 2, time: 1000, roundTrip: 24_768, rank: 1 }, // br100
      { iface: 1, time: 1000, roundTrip: 27_492, rank: 0 }, // tap
    ];
    expect(order(request, { roundTripSign: 1 })).toEqual([1, 2]);
    // the reply: the shorter round trip is nearer the answerer
    const reply: Hop[] = [
      { iface: 1, time: 28_492, roundTrip: 27_492 },
      { iface: 2, time: 28_492, roundTrip: 24_768 },
    ];
    expect(order(reply, { roundTripSign: -1 })).toEqual([2, 1]);
  });

  it('round trips work across hosts with no clock known at all', () => {
    // compute's qg and the outside host's eth0, 4 µs apart on the wire; outside's clock unknown
    const request: Hop[] = [
      { iface: 20, host: 1, time: 9e8, ttl: 63, roundTrip: 100_000 },
      { iface: 5, host: 0, time: 1000, ttl: 63, roundTrip: 108_000 },
    ];
    expect(order(request, { roundTripSign: 1 })).toEqual([5, 20]);
    const reply: Hop[] = [
      { iface: 5, host: 0, time: 109_000, ttl: 64, roundTrip: 108_000 },
      { iface: 20, host: 1, time: 9e8 + 100_000, ttl: 64, roundTrip: 100_000 },
    ];
    expect(order(reply, { roundTripSign: -1 })).toEqual([20, 5]);
  });

  it('round trips closer than twice the resolution say nothing', () => {
    const hops: Hop[] = [
      { iface: 2, time: 0, resolution: 1000, roundTrip: 10_000, rank: 0 },
      { iface: 1, time: 0, resolution: 1000, roundTrip: 11_500, rank: 1 },
    ];
    expect(order(hops, { roundTripSign: 1, clock: false })).toEqual([2, 1]);
  });

  it('an ARP request starts where its sender address lives, whatever the clocks', () => {
    // outside:eth0 holds 203.0.113.1 and asks; compute:eth1 hears it. Outside's clock: 0.4 s ahead, unknown.
    const hops: Hop[] = [
      { iface: 7, host: 0, time: 1000 }, // compute:eth1
      { iface: 9, host: 1, time: 1000 + 4e8 - 17_000, holdsSource: true }, // outside:eth0
    ];
    expect(order(hops)).toEqual([9, 7]);
  });

  it('a packet ends where its destination lives; a source seen after a routed hop (SNAT) is not its start', () => {
    expect(
      order([
        { iface: 1, time: 0, holdsDestination: true },
        { iface: 2, time: 0, rank: 5 },
      ]),
    ).toEqual([2, 1]);
    // the VM's packet, SNAT-ed to the floating IP that eth1 holds: eth1 still comes after the VM
    expect(
      order([
        { iface: 11, time: 50, ttl: 63, holdsSource: true }, // eth1, after routing
        { iface: 1, time: 50, ttl: 64 }, // the VM
      ]),
    ).toEqual([1, 11]);
  });

  it('across hosts, time counts only beyond both clocks’ uncertainty', () => {
    // host 0 sees the packet at 0 and 30 µs; host 1 at 10 µs on the reference clock
    const hops = (clockError: number): Hop[] => [
      { iface: 1, host: 0, time: 0 },
      { iface: 3, host: 0, time: 30_000 },
      { iface: 2, host: 1, time: 10_000 + 300, offset: 300, clockError },
    ];
    expect(order(hops(1_000))).toEqual([1, 2, 3]); // ±1 µs: host 1 is between
    // ±50 µs: the clocks cannot tell; a path keeps a host's interfaces together
    expect(order(hops(50_000))).toEqual([1, 3, 2]);
  });

  it('the host that encapsulates comes before the one that decapsulates', () => {
    // node1: pod veth (inner) 100 ns before its eth0 (tunnelled); node2: eth0 (tunnelled) before its veth
    const hops: Hop[] = [
      { iface: 21, host: 1, time: 7e8, tunnelled: true, rank: 0 }, // node2:eth0
      { iface: 22, host: 1, time: 7e8 + 900, rank: 1 }, // node2:veth
      { iface: 11, host: 0, time: 100, rank: 2 }, // node1:veth
      { iface: 12, host: 0, time: 200, tunnelled: true, rank: 3 }, // node1:eth0
    ];
    expect(order(hops)).toEqual([11, 12, 21, 22]);
  });

  it('a NIC and its VXLAN device stamping one nanosecond: the tunnelled form first where the packet arrives', () => {
    // node1 → node2 known from the round trips; on each node the inner and tunnelled forms tie
    const hops: Hop[] = [
      { iface: 22, host: 1, time: 5e8, rank: 0, roundTrip: 90_000 }, // node2:vxlan_sys_4789 (inner)
      { iface: 21, host: 1, time: 5e8, tunnelled: true, rank: 1, roundTrip: 90_000 }, // node2:eth0
      { iface: 12, host: 0, time: 100, tunnelled: true, rank: 2, roundTrip: 150_000 }, // node1:eth0
      { iface: 11, host: 0, time: 100, rank: 3, roundTrip: 150_000 }, // node1:tun0 (inner)
    ];
    expect(order(hops, { roundTripSign: 1 })).toEqual([11, 12, 21, 22]);
  });

  it('a learned path orders what nothing else tells apart, and never overrides the network', () => {
    const tied: Hop[] = [
      { iface: 3, time: 0, rank: 0 },
      { iface: 2, time: 0, rank: 1 },
      { iface: 1, time: 0, rank: 2 },
    ];
    expect(order(tied, { hints: [[[1, 2, 3], false]] })).toEqual([1, 2, 3]);
    expect(order(tied, { hints: [[[1, 2, 3], true]] })).toEqual([3, 2, 1]);
    const withTtl: Hop[] = [
      { iface: 1, time: 0, ttl: 63 },
      { iface: 2, time: 0, ttl: 64 },
    ];
    expect(order(withTtl, { hints: [[[1, 2], false]] })).toEqual([2, 1]);
  });

  it('a route learned from other packets: onwards to the destination, and back the way to the source', () => {
    // tap and br100 stamp one ns; nothing but routes tells which came first
    const hops: Hop[] = [
      { iface: 2, time: 0, rank: 0 }, // br100
      { iface: 1, time: 0, rank: 1 }, // tap
    ];
    // from br100, packets back to the VM went through the tap: the request came that way
    expect(order(hops, { routes: [[0, [1, 9], true]] })).toEqual([1, 2]);
    // from the tap, packets to the destination went on to br100
    expect(order(hops, { routes: [[1, [2, 7], false]] })).toEqual([1, 2]);
  });

  it('a path visits a host’s interfaces together', () => {
    // nothing orders host 1's two interfaces against host 0's: they stay together
    const hops: Hop[] = [
      { iface: 1, host: 0, time: 0, ttl: 64 },
      { iface: 2, host: 0, time: 10_000, ttl: 64 },
      { iface: 5, host: 1, time: 3e8, ttl: 63, clockError: Number.POSITIVE_INFINITY },
      { iface: 6, host: 1, time: 3e8 + 10_000, ttl: 63, clockError: Number.POSITIVE_INFINITY },
    ];
    expect(order(hops)).toEqual([1, 2, 5, 6]);
  });

  it(`orders up to ${MAX_HOPS} sightings (both words of its sets)`, () => {
    const hops: Hop[] = [];
    for (let i = MAX_HOPS - 1; i >= 0; i--) hops.push({ iface: i, time: i * 1000, rank: MAX_HOPS - i });
    expect(order(hops)).toEqual(Array.from({ length: MAX_HOPS }, (_, i) => i));
    // a chain of TTLs across all 64, times reversed: TTL decides every pair
    const ttls: Hop[] = [];
    for (let i = 0; i < MAX_HOPS; i++) ttls.push({ iface: i, time: (MAX_HOPS - i) * 1000, ttl: 200 - i });
    expect(order(ttls)).toEqual(Array.from({ length: MAX_HOPS }, (_, i) => i));
  });
});
