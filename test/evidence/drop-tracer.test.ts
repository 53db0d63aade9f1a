// The local drop tracer (BPF on skb:kfree_skb, native/drop_tracer.bpf.c): a packet
// dropped by a firewall rule in a watched namespace is reported with its reason,
// where in the kernel, and its own fields, so it is matched to the packet that went
// missing, also by a query made before the reader thread took it; an unwatched
// namespace reports nothing; the program is gone from the
// kernel after close() and after the process holding it is killed.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangePacket } from '../../src/evidence/context.js';
import { Kallsyms } from '../../src/evidence/kernel/kallsyms.js';
import { LocalDropTracer } from '../../src/evidence/kernel/drop-tracer.js';
import { requireRoot, Topology, waitFor, A_ADDR, B_ADDR } from '../native/netns-topology.js';
import { ourBpfPrograms } from './support/bpf-programs.js';
import { asNobodyArgv } from '../support/as-nobody.js';

const NS = 1_000_000_000n;
const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** One echo request from A to B, as tcpdump -v saw it arrive on b0: its IP id and sequence. */
async function pingOnce(topo: Topology, seq: number): Promise<{ ipId: number; icmpId: number }> {
  const tcpdump = spawn(
    'ip',
    ['netns', 'exec', topo.nsB, 'tcpdump', '-i', 'b0', '-nn', '-v', '-l', '-c', '1', 'icmp'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  tcpdump.stdout.on('data', (d: Buffer) => (out += d.toString()));
  tcpdump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('tcpdump listening', () => err.includes('listening on'), 10_000);
  const ping = spawn('ip', ['netns', 'exec', topo.nsA, 'ping', '-c', '1', '-W', '1', B_ADDR], {
    stdio: 'ignore',
  });
  await new Promise((r) => ping.once('exit', r));
  await waitFor('tcpdump saw the request', () => /seq \d+/.test(out), 10_000);
  tcpdump.kill();
  const ipId = Number(/\bid (\d+)/.exec(out)?.[1]);
  const icmpId = Number(/ICMP echo request, id (\d+)/.exec(out)?.[1]);
  expect(Number.isInteger(ipId), out).toBe(true);
  void seq;
  return { ipId, icmpId };
}

function echoRequest(ipId: number, icmpId: number): ExchangePacket {
  return {
    family: 4,
    src: A_ADDR,
    dst: B_ADDR,
    proto: 1,
    ipId,
    ipLength: 84,
    sport: null,
    dport: null,
    icmpType: 8,
    icmpId,
    icmpSeq: 1,
    tcpSeq: null,
    tcpFlags: null,
    dontFragment: true,
    ttl: 64,
    aliases: [],
  };
}

describe('local drop tracer', () => {
  const topo = new Topology('drp');

  beforeAll(async () => {
    requireRoot();
    await topo.up();
    await topo.inB([
      'nft',
      'add table inet hstest; add chain inet hstest input { type filter hook input priority 0; }; add rule inet hstest input icmp type echo-request drop',
    ]);
  });

  afterAll(async () => {
    await topo.down();
    expect(await topo.leftovers()).toEqual([]);
    await waitFor('no program of ours', () => ourBpfPrograms().length === 0, 10_000);
  });

  it('reports a firewall drop in a watched namespace with its reason, location and the packet’s own fields', async () => {
    const tracer = LocalDropTracer.open();
    try {
      const inode = tracer.watch(`/run/netns/${topo.nsB}`);
      expect(ourBpfPrograms()).toEqual(['hopscope_drops']);
      const start = now();
      const { ipId, icmpId } = await pingOnce(topo, 1);
      const packet = echoRequest(ipId, icmpId);
      let found = tracer.query(new Set([inode]), { startNs: start, endNs: now() + NS }, packet);
      await waitFor('the drop', () => {
        found = tracer.query(new Set([inode]), { startNs: start, endNs: now() + NS }, packet);
        return found.byPacket.length > 0;
      });
      expect(found.byPacket).toHaveLength(1);
      const drop = found.byPacket[0];
      expect(tracer.reasonName(drop.reason)).toBe('NETFILTER_DROP');
      expect(drop).toMatchObject({
        family: 4,
        src: A_ADDR,
        dst: B_ADDR,
        proto: 1,
        ipId,
        icmpType: 8,
        l4: true,
        netns: inode,
      });
      const where = await new Kallsyms().symbolise([drop.location]);
      expect(where.get(drop.location)).toMatch(/^(nf_hook_slow|nft_do_chain)\+0x[0-9a-f]+$/);
      // another packet of the same flow is not this drop, only one at the same time (asked for)
      const other = tracer.query(
        new Set([inode]),
        { startNs: start, endNs: now() + NS },
        { ...packet, ipId: (ipId + 1) & 0xffff },
        16,
      );
      expect(other.byPacket).toEqual([]);
      expect(other.byTime).toHaveLength(1);
    } finally {
      tracer.close();
    }
    // The kernel frees a detached program after an RCU grace period.
    await waitFor('the program gone', () => ourBpfPrograms().length === 0, 10_000);
  });

  it('a query finds a drop of a moment ago, before the reader thread’s round takes it from the kernel', async () => {
    // a verdict whose ICMP error came at once is explained within ms of the drop: with
    // a round of a minute, only the query's own taking of the ring can find it
    const tracer = LocalDropTracer.open({ roundMs: 60_000 });
    try {
      const inode = tracer.watch(`/run/netns/${topo.nsB}`);
      const start = now();
      const { ipId, icmpId } = await pingOnce(topo, 1);
      const found = tracer.query(
        new Set([inode]),
        { startNs: start, endNs: now() + NS },
        echoRequest(ipId, icmpId),
      );
      expect(found.byPacket).toHaveLength(1);
      expect(tracer.reasonName(found.byPacket[0].reason)).toBe('NETFILTER_DROP');
    } finally {
      // (close() wakes the reader from its minute-long wait: a close that waited it out
      // would outlast the test's time)
      tracer.close();
    }
  });

  it('reports nothing of a namespace it does not watch', async () => {
    const tracer = LocalDropTracer.open();
    try {
      const watchedA = tracer.watch(`/run/netns/${topo.nsA}`);
      const start = now();
      const { ipId, icmpId } = await pingOnce(topo, 1);
      // B's drop happened (a tracer watching B would see it: the test above); A watched only
      const inodeB = (await import('node:fs')).statSync(`/run/netns/${topo.nsB}`).ino;
      const r = tracer.query(
        new Set([watchedA, inodeB]),
        { startNs: start, endNs: now() + NS },
        echoRequest(ipId, icmpId),
        16,
      );
      expect(r.byPacket).toEqual([]);
      expect(r.byTime).toEqual([]);
    } finally {
      tracer.close();
    }
  });

  it('leaves no program behind when the process holding it is killed', async () => {
    const child = spawn(
      process.execPath,
      [
        'test/evidence/support/ts-child.mjs',
        'test/evidence/support/tracer-child.ts',
        `/run/netns/${topo.nsB}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((r) => child.once('exit', r));
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(
        'the child attached its tracer',
        () => out.includes('ready') || out.includes('unavailable'),
        20_000,
      );
      expect(out).toBe('ready\n');
      expect(ourBpfPrograms()).toEqual(['hopscope_drops']);
    } finally {
      // killed whatever was found: a child left holding its program would fail every later check of none
      child.kill('SIGKILL');
      await exited;
    }
    // The kernel releases the program with its last file descriptor (asynchronously).
    await waitFor('the program gone', () => ourBpfPrograms().length === 0, 10_000);
  });

  it('without privileges: the tracer says it cannot load, and why', async () => {
    const [cmd, ...args] = asNobodyArgv([
      process.execPath,
      'test/evidence/support/ts-child.mjs',
      'test/evidence/support/tracer-child.ts',
    ]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(out).toMatch(/^unavailable: .*needs root/);
    expect(ourBpfPrograms()).toEqual([]);
  });
});
