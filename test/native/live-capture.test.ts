// Live capture through the native addon, inside a network namespace, opened
// from this (root-namespace) test process: the checks an operator would make
// with tcpdump side by side.

import { statSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LINKTYPE } from '../../src/events/types.js';
import {
  isCaptureError,
  type CaptureError,
  type NativeInterfaceInfo,
} from '../../src/sources/native-addon.js';
import {
  LiveCapture,
  listInterfaces,
  listInterfacesAsync,
  netnsPathOf,
} from '../../src/sources/live-capture.js';
import {
  A1_ADDR,
  A_ADDR,
  B_ADDR,
  Tcpdump,
  Topology,
  parseEcho,
  parseTcpdumpEchoes,
  requireRoot,
  startCollecting,
  waitFor,
  type CopiedPacket,
  type Echo,
} from './netns-topology.js';

const topo = new Topology('c');
const opened: LiveCapture[] = [];

function open(options: Parameters<typeof LiveCapture.open>[0]): LiveCapture {
  const capture = LiveCapture.open(options);
  opened.push(capture);
  return capture;
}

function echoes(packets: CopiedPacket[]): (Echo & { packet: CopiedPacket })[] {
  const out: (Echo & { packet: CopiedPacket })[] = [];
  for (const packet of packets) {
    const echo = parseEcho(packet.bytes);
    if (echo !== null) out.push({ ...echo, packet });
  }
  return out;
}

function thrown(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    if (isCaptureError(err)) return err;
    throw err;
  }
  throw new Error('expected an error, none was thrown');
}

beforeAll(async () => {
  requireRoot();
  await topo.up();
});

afterAll(async () => {
  for (const capture of opened) capture.close();
  await topo.down();
  expect(await topo.leftovers()).toEqual([]);
});

describe('live capture in a network namespace', () => {
  it('sees exactly the echo requests and replies of a ping, with linktype EN10MB and full lengths', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA });
    expect(capture.linktype).toBe(LINKTYPE.EN10MB);
    expect(capture.snaplen).toBe(262144);
    expect(capture.tsPrecision).toBe('nano');
    const got = startCollecting(capture);

    await topo.inB(['ping', '-c', '5', '-i', '0.2', '-n', A_ADDR]);
    await waitFor('5 replies', () => echoes(got.packets).filter((e) => e.type === 'reply').length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more should come
    capture.stop();

    expect(got.errors).toEqual([]);
    const seen = echoes(got.packets);
    const requests = seen.filter((e) => e.type === 'request');
    const replies = seen.filter((e) => e.type === 'reply');
    expect(requests.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(replies.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const e of requests) expect([e.src, e.dst]).toEqual([B_ADDR, A_ADDR]);
    for (const e of replies) expect([e.src, e.dst]).toEqual([A_ADDR, B_ADDR]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(1);
    // 56 bytes of ping data + 8 ICMP + 20 IPv4 + 14 Ethernet, nothing cut off.
    for (const e of seen) {
      expect(e.packet.len).toBe(98);
      expect(e.packet.caplen).toBe(98);
      expect(e.packet.bytes.length).toBe(98);
    }
    // Besides the echoes only ARP may appear on the link (IPv6 is off in the lab).
    const others = got.packets.filter((p) => parseEcho(p.bytes) === null);
    for (const p of others) expect((p.bytes[12] << 8) | p.bytes[13]).toBe(0x0806);
  });

  it('stamps packets with the kernel clock: the same nanoseconds tcpdump prints, not the JS clock', async () => {
    const tcpdump = await Tcpdump.start(topo.nsA, 'a0', 'icmp');
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    const got = startCollecting(capture);
    const before = Date.now();
    await topo.inB(['ping', '-c', '5', '-i', '0.2', '-n', A_ADDR]);
    await waitFor('10 echoes', () => got.packets.length >= 10);
    await waitFor('tcpdump to print 10 echoes', () => parseTcpdumpEchoes(tcpdump.output).length >= 10);
    const after = Date.now();
    const reference = parseTcpdumpEchoes(await tcpdump.stop());
    capture.stop();

    const ours = echoes(got.packets);
    expect(ours).toHaveLength(10);
    expect(reference).toHaveLength(10);
    let maxDiffNs = 0;
    for (const r of reference) {
      const mine = ours.find((e) => e.type === r.type && e.seq === r.seq);
      expect(mine, `${r.type} seq ${r.seq} captured by both`).toBeDefined();
      const p = mine!.packet;
      const diffNs = Math.abs((p.tsSec - r.tsSec) * 1e9 + (p.tsNsec - r.tsNsec));
      maxDiffNs = Math.max(maxDiffNs, diffNs);
    }
    // Two packet sockets on one interface see the same skb timestamp.
    expect(maxDiffNs).toBeLessThanOrEqual(5_000);

    for (const { packet: p } of ours) {
      expect(Number.isInteger(p.tsSec)).toBe(true);
      expect(p.tsNsec).toBeGreaterThanOrEqual(0);
      expect(p.tsNsec).toBeLessThan(1e9);
      // Same wall clock as Date.now (within the run), ...
      const ms = p.tsSec * 1000 + p.tsNsec / 1e6;
      expect(ms).toBeGreaterThanOrEqual(before - 2000);
      expect(ms).toBeLessThanOrEqual(after + 2000);
    }
    // ... but with digits below the millisecond that Date.now() does not have.
    expect(ours.some(({ packet: p }) => p.tsNsec % 1_000_000 !== 0)).toBe(true);
    expect(ours.some(({ packet: p }) => p.tsNsec % 1_000 !== 0)).toBe(true);
  });

  it('applies a kernel BPF filter: icmp[icmptype] = 8 keeps only the requests', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp[icmptype] = 8' });
    const got = startCollecting(capture);
    await topo.inB(['ping', '-c', '5', '-i', '0.2', '-n', A_ADDR]);
    await waitFor('5 requests', () => got.packets.length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    capture.stop();
    expect(got.packets).toHaveLength(5);
    expect(echoes(got.packets).map((e) => `${e.type} ${e.seq}`)).toEqual([
      'request 1',
      'request 2',
      'request 3',
      'request 4',
      'request 5',
    ]);
  });

  it('rejects a bad filter with pcap’s reason, naming filter, interface and namespace', () => {
    const err = thrown(() => open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp[[ = 8' }));
    expect(err.code).toBe('ERR_BAD_FILTER');
    expect(err.message).toContain("'icmp[[ = 8'");
    expect(err.message).toContain(`a0 in netns ${topo.nsA}`);
    expect(err.message).toMatch(/syntax error/);

    const capture = open({ iface: 'a0', netnsPath: topo.pathA });
    const later = thrown(() => capture.setFilter('port seventy'));
    expect(later.code).toBe('ERR_BAD_FILTER');
    expect(later.message).toContain("'port seventy'");
  });

  it('says which interface or namespace does not exist', () => {
    const noDevice = thrown(() => open({ iface: 'tap123', netnsPath: topo.pathA }));
    expect(noDevice.code).toBe('ERR_NO_SUCH_DEVICE');
    expect(noDevice.message).toMatch(new RegExp(`^no such device exists: tap123 in netns ${topo.nsA}\\b`));

    const missing = `${topo.prefix}-missing`;
    const noNetns = thrown(() => open({ iface: 'a0', netnsPath: netnsPathOf(missing) }));
    expect(noNetns.code).toBe('ERR_NETNS_NOT_FOUND');
    expect(noNetns.message).toBe(`network namespace not found: ${missing} (/var/run/netns/${missing})`);

    // A pid that cannot exist (above pid_max's ceiling of 2^22).
    const noPid = thrown(() => open({ iface: 'a0', netnsPath: netnsPathOf('pid:99999999') }));
    expect(noPid.code).toBe('ERR_NETNS_NOT_FOUND');
    expect(noPid.message).toContain('pid:99999999');

    const notNetns = thrown(() => open({ iface: 'a0', netnsPath: '/proc/self/ns/uts' }));
    expect(notNetns.code).toBe('ERR_NETNS');
    expect(notNetns.message).toContain('not a network namespace');

    // The interface exists only in the namespace, not in ours.
    expect(thrown(() => open({ iface: 'a0' })).message).toMatch(/^no such device exists: a0\b/);
  });

  it('counts received packets in pcap_stats, and keeps the final counters after close', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', interfaceId: 7 });
    const got = startCollecting(capture);
    await topo.inB(['ping', '-c', '3', '-i', '0.2', '-n', A_ADDR]);
    await waitFor('6 echoes', () => got.packets.length >= 6);
    const stats = capture.stats();
    expect(stats).toEqual({ interfaceId: 7, received: 6, dropped: 0, final: false });

    capture.close();
    capture.close(); // idempotent
    expect(capture.closed).toBe(true);
    expect(capture.fd).toBe(-1);
    expect(capture.stats()).toEqual({ interfaceId: 7, received: 6, dropped: 0, final: true });
  });

  it('knows the namespace it was opened in by inode (what `stat` shows for its path), none in its own', async () => {
    const inNamespace = open({ iface: 'a0', netnsPath: topo.pathA });
    expect(inNamespace.netnsInode).toBe(statSync(topo.pathA).ino);
    expect(inNamespace.netnsInode).not.toBe(statSync('/proc/self/ns/net').ino);
    const byPid = open({ iface: 'lo', netnsPath: netnsPathOf(`pid:${process.pid}`) });
    expect(byPid.netnsInode).toBe(statSync('/proc/self/ns/net').ino);
    expect(open({ iface: 'lo' }).netnsInode).toBeNull();
  });

  it('reports an interface deleted mid-capture through onError, without crashing', async () => {
    const capture = open({ iface: 'a1', netnsPath: topo.pathA });
    const got = startCollecting(capture);
    await topo.inB(['ping', '-c', '2', '-i', '0.2', '-n', A1_ADDR]);
    await waitFor('the pings on a1', () => echoes(got.packets).length >= 4);

    await topo.run(['ip', '-n', topo.nsA, 'link', 'del', 'a1']);
    await waitFor('the error callback', () => got.errors.length > 0, 3000);
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0].code).toBe('ERR_IFACE_GONE');
    expect(got.errors[0].message).toContain(`a1 in netns ${topo.nsA}`);
    expect(capture.started).toBe(false);
    // The handle is still usable for its last counters, then closes cleanly.
    expect(capture.stats().received).toBeGreaterThanOrEqual(4);
    capture.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got.errors).toHaveLength(1); // reported once
  });

  it('survives the interface going down and up again', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    const got = startCollecting(capture);
    await topo.run(['ip', '-n', topo.nsA, 'link', 'set', 'a0', 'down']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await topo.run(['ip', '-n', topo.nsA, 'link', 'set', 'a0', 'up']);
    await topo.run(['ip', '-n', topo.nsB, 'link', 'set', 'b0', 'up']);
    await topo.inB(['ping', '-c', '2', '-i', '0.2', '-W', '2', '-n', A_ADDR]);
    await waitFor('4 echoes', () => got.packets.length >= 4);
    expect(got.errors).toEqual([]);
    expect(capture.started).toBe(true);
    capture.stop();
  });

  // A flood ping with 32 echoes in flight: 4000 packets in ~40 ms (~100 kpps).
  const FLOOD = ['ping', '-f', '-c', '2000', '-l', '32', '-q', '-n', A_ADDR];

  function expectOrdered(packets: CopiedPacket[]): void {
    for (let i = 1; i < packets.length; i++) {
      const a = packets[i - 1];
      const b = packets[i];
      expect(b.tsSec * 1e9 + b.tsNsec).toBeGreaterThanOrEqual(a.tsSec * 1e9 + a.tsNsec);
    }
  }

  it('delivers a burst in batches of many packets per callback (immediate mode: every packet delivered or counted as dropped)', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp' });
    const got = startCollecting(capture);
    await topo.inB(FLOOD);
    await waitFor('the burst to be read', () => {
      const s = capture.stats();
      return s.received === 4000 && got.packets.length === s.received - s.dropped;
    });
    capture.stop();

    // Immediate mode's ring has few fixed-size slots: drops are possible at
    // this rate, but never silent.
    const stats = capture.stats();
    expect(stats.received).toBe(4000);
    expect(got.packets.length + stats.dropped).toBe(4000);
    expect(got.batchSizes.reduce((a, b) => a + b, 0)).toBe(got.packets.length);
    expect(Math.max(...got.batchSizes)).toBeGreaterThan(1);
    expect(got.batchSizes.length).toBeLessThan(got.packets.length);
    expectOrdered(got.packets);
  });

  it('gives the event loop its turn within a wake while a backlog is read, and says which batch left packets unread', async () => {
    // The burst waits in the ring before reading starts; each batch is 50 packets and
    // takes its callback 3 ms. A wake stops after 10 ms of batches (capture_handle.h),
    // so a wake reads at most 4; one turn of the loop may hold two wakes (the look for
    // an emptied ring in its timers, the fd's in its poll phase): at most 8 batches pass
    // between two turns (16 in one wake without the budget).
    // Full batches say the ring may hold more; once it is empty, a batch says not.
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', immediate: false });
    await topo.inB(FLOOD);
    await waitFor('the burst in the ring', () => capture.stats().received === 4000);
    let turn = 0;
    let spinning = true;
    const spin = (): void => {
      turn++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const batches: Array<{ turn: number; count: number; more: boolean; last: number; lastSaid: number }> = [];
    let delivered = 0;
    capture.start(
      (batch) => {
        let last = 0;
        batch.forEach((p) => (last = p.tsSec * 1e9 + p.tsNsec));
        delivered += batch.count;
        batches.push({
          turn,
          count: batch.count,
          more: batch.more,
          last,
          lastSaid: batch.more ? batch.lastTsSec * 1e9 + batch.lastTsNsec : 0,
        });
        const until = performance.now() + 3;
        while (performance.now() < until);
      },
      (err) => {
        throw err;
      },
      { maxPacketsPerBatch: 50 },
    );
    try {
      await waitFor('the whole burst', () => delivered === 4000, 20_000);
    } finally {
      spinning = false;
      capture.stop();
    }
    const perTurn = new Map<number, number>();
    for (const b of batches) perTurn.set(b.turn, (perTurn.get(b.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(8);
    // full batches said the ring may hold more; the one that emptied it did not
    // (and named their last packet's time: nothing later may be judged before it is read)
    const full = batches.filter((b) => b.count === 50);
    expect(full.length).toBeGreaterThanOrEqual(79);
    expect(full.every((b) => b.more && b.lastSaid === b.last)).toBe(true);
    expect(batches.at(-1)?.more).toBe(false);
  });

  it('delivers the whole burst, none dropped, in a few large batches when not in immediate mode', async () => {
    const capture = open({ iface: 'a0', netnsPath: topo.pathA, filter: 'icmp', immediate: false });
    const got = startCollecting(capture);
    await topo.inB(FLOOD);
    await waitFor('4000 echoes', () => got.packets.length >= 4000);
    capture.stop();

    expect(capture.stats()).toMatchObject({ received: 4000, dropped: 0 });
    const seen = echoes(got.packets);
    expect(seen.filter((e) => e.type === 'request')).toHaveLength(2000);
    expect(seen.filter((e) => e.type === 'reply')).toHaveLength(2000);
    expect(got.batchSizes.reduce((a, b) => a + b, 0)).toBe(4000);
    expect(Math.max(...got.batchSizes)).toBeGreaterThan(100);
    expect(got.batchSizes.length).toBeLessThan(100);
    expectOrdered(got.packets);
  });

  it('lists the interfaces of a namespace with their state and addresses', async () => {
    // IFF_RUNNING follows the kernel's link watch, which lags a link coming back
    // up (the down/up test above) by up to a second.
    const a0 = (): NativeInterfaceInfo | undefined => listInterfaces(topo.pathA).find((i) => i.name === 'a0');
    await waitFor('a0 to be running', () => a0()?.running === true, 3000);
    const byName = new Map(listInterfaces(topo.pathA).map((i) => [i.name, i]));
    expect(byName.get('lo')).toMatchObject({ up: true, loopback: true });
    expect(byName.get('a0')).toMatchObject({
      up: true,
      running: true,
      loopback: false,
      addresses: [{ family: 'ipv4', address: A_ADDR, prefixLength: 24 }],
    });
    // Only this namespace's interfaces: b0 lives in the other one.
    expect(byName.has('b0')).toBe(false);
    expect(thrown(() => listInterfaces(netnsPathOf(`${topo.prefix}-missing`))).code).toBe(
      'ERR_NETNS_NOT_FOUND',
    );
  });

  it('lists on the thread pool what it lists on the spot, and rejects with the same error', async () => {
    const names = (list: NativeInterfaceInfo[]): string[] => list.map((i) => `${i.name}:${i.up}`).sort();
    const [a, b] = await Promise.all([
      listInterfacesAsync(topo.pathA),
      listInterfacesAsync(netnsPathOf(topo.nsB)),
    ]);
    expect(names(a)).toEqual(names(listInterfaces(topo.pathA)));
    expect(names(b)).toEqual(names(listInterfaces(netnsPathOf(topo.nsB))));
    expect(names(a)).toContain('a0:true');
    expect(names(a).some((n) => n.startsWith('b0:'))).toBe(false);
    const err = await listInterfacesAsync(netnsPathOf(`${topo.prefix}-missing`)).then(
      () => null,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(err?.code).toBe('ERR_NETNS_NOT_FOUND');
    expect(err?.message).toContain(`${topo.prefix}-missing`);
  });
});
