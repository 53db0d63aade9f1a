// A server that gets every question and answers none, for reasons only its state shows
// (docs/json-lines.md `cause`):
// - it is running and listening, and takes nothing: its event loop is stuck. The SYNs
//   of new connections are dropped by the kernel without a reset and without a drop it
//   reports (the accept queue is full: tcp_conn_request), and a DNS query waits unread
//   in the socket: `listener-stalled`, from the socket's queues as `ss` shows them;
// - its kernel is told to answer no pings: `echo-ignored`, with the sysctl.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inNetns,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

const SERVER = '10.98.0.3';
const SERVER6 = 'fd98::3';
const BACKLOG = 1;

/**
 * Listens on TCP 8080 with a backlog of BACKLOG and binds UDP 53, says so, then blocks its
 * own event loop: nothing is accepted, nothing read.
 */
const STUCK_SERVER = `
const net = require('node:net');
const dgram = require('node:dgram');
const server = net.createServer();
server.listen({ host: '${SERVER}', port: 8080, backlog: ${BACKLOG} }, () => {
  const udp = dgram.createSocket('udp4');
  udp.bind(53, '${SERVER}', () => {
    process.stdout.write('listening\\n', () => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
  });
});`;

/** Opens a connection and holds it. */
const HOLDING_CLIENT = `require('node:net').connect(8080, '${SERVER}').on('connect', () => console.log('connected'));`;

/** Recv-Q and Send-Q of the listener on TCP 8080 in `ns`, as `ss` shows them. */
async function acceptQueue(ns: string): Promise<[number, number]> {
  const out = (await run(['ip', 'netns', 'exec', ns, 'ss', '-Hltn', 'sport = :8080'])).stdout.trim();
  const f = out.split(/\s+/);
  return [Number(f[1]), Number(f[2])];
}

describe('a server that answers nothing: a stalled listener, pings ignored', () => {
  const P = runPrefix('stall');
  const [c, s] = ['c', 's'].map((n) => `${P}${n}`);
  const children: ResultPromise[] = [];
  let work: string | undefined;

  function spawnIn(ns: string, script: string): ResultPromise {
    const child = execa('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
      reject: false,
      stdin: 'ignore',
      buffer: false,
    });
    children.push(child);
    return child;
  }

  async function firstLine(child: ResultPromise, expected: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes(expected)) resolve();
      });
      void child.then((r) => reject(new Error(`exited before "${expected}": ${String(r.stderr)}`)));
    });
  }

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-stall-'));
    for (const ns of [c, s])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', c, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s],
      ['ip', '-n', c, 'addr', 'add', '10.98.0.2/24', 'dev', 'eth0'],
      ['ip', '-n', s, 'addr', 'add', `${SERVER}/24`, 'dev', 'eth0'],
      ['ip', '-n', c, 'addr', 'add', 'fd98::2/64', 'dev', 'eth0', 'nodad'],
      ['ip', '-n', s, 'addr', 'add', `${SERVER6}/64`, 'dev', 'eth0', 'nodad'],
      ['ip', '-n', c, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', s, 'link', 'set', 'eth0', 'up'],
    );
    await firstLine(spawnIn(s, STUCK_SERVER), 'listening');
    // fill the accept queue: BACKLOG + 1 connections wait, none accepted
    for (let i = 0; i <= BACKLOG; i++) await firstLine(spawnIn(c, HOLDING_CLIENT), 'connected');
    // (the last connection joins the queue as the server gets its ACK)
    while ((await acceptQueue(s))[0] <= BACKLOG) await new Promise((resolve) => setTimeout(resolve, 50));
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children);
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('a new connection: unanswered where the SYN arrived; why: the accept queue is full; its recording replays it', async () => {
    expect(await acceptQueue(s)).toEqual([BACKLOG + 1, BACKLOG]);
    const recording = join(work ?? '', 'stall.pcapng');
    const lines = await capture(
      () => inNetns(c, ['timeout', '3', 'nc', SERVER, '8080']),
      (l) => exchangesOf(l, 'tcp-handshake').length > 0,
      ['-w', recording],
    );
    const [h] = exchangesOf(lines, 'tcp-handshake');
    expect(h.status).toBe('unanswered');
    expect(h.stages[0].seen.map((x) => x.iface)).toEqual([`${c}/eth0`, `${s}/eth0`]);
    expect(h.cause).toMatchObject({
      code: 'listener-stalled',
      at: `${s}/eth0`,
      summary: `the accept queue of TCP ${SERVER}:8080 in ${s} is full (${BACKLOG + 1} connections wait, backlog ${BACKLOG}): the kernel drops new SYNs until the application accepts`,
    });
    expect(h.cause?.evidence).toContainEqual({
      source: 'socket',
      netns: s,
      protocol: 'tcp',
      address: SERVER,
      port: 8080,
      listening: true,
      queued: BACKLOG + 1,
      backlog: BACKLOG,
    });
    const replay = await runCli(['replay', recording, '--json']);
    expect(exchangesOf(replay.stdout.split('\n'), 'tcp-handshake').map((x) => x.cause)).toEqual([h.cause]);
  }, 60_000);

  it('a DNS query: unanswered; why: it waits unread in the socket', async () => {
    const lines = await capture(
      () => inNetns(c, ['dig', '+tries=1', '+time=1', `@${SERVER}`, 'stalled.test', 'A']),
      (l) => exchangesOf(l, 'dns').length > 0,
    );
    const [q] = exchangesOf(lines, 'dns');
    expect(q.status).toBe('unanswered');
    expect(q.cause?.code).toBe('listener-stalled');
    expect(q.cause?.summary).toMatch(
      new RegExp(`^\\d+ bytes wait unread on UDP ${SERVER.replaceAll('.', '\\.')}:53 in ${s}: `),
    );
    expect(q.cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'socket', protocol: 'udp', port: 53, listening: true }),
    );
  }, 60_000);

  it('pings, IPv4 and IPv6, to a server that ignores them: unanswered; why: the sysctl', async () => {
    await runAll(
      ['ip', 'netns', 'exec', s, 'sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1'],
      ['ip', 'netns', 'exec', s, 'sysctl', '-qw', 'net.ipv6.icmp.echo_ignore_all=1'],
    );
    const lines = await capture(
      async () => {
        await inNetns(c, ['ping', '-c1', '-W1', SERVER]);
        await inNetns(c, ['ping', '-c1', '-W1', SERVER6]);
      },
      (l) => exchangesOf(l, 'icmp-echo').length + exchangesOf(l, 'icmpv6-echo').length === 2,
    );
    const pings = [...exchangesOf(lines, 'icmp-echo'), ...exchangesOf(lines, 'icmpv6-echo')];
    expect(pings.map((x) => [x.status, x.cause?.code, x.cause?.summary, x.cause?.evidence])).toEqual([
      [
        'unanswered',
        'echo-ignored',
        `${s} answers no pings (net.ipv4.icmp_echo_ignore_all = 1)`,
        [{ source: 'sysctl', netns: s, key: 'net.ipv4.icmp_echo_ignore_all', value: '1' }],
      ],
      [
        'unanswered',
        'echo-ignored',
        `${s} answers no pings (net.ipv6.icmp.echo_ignore_all = 1)`,
        [{ source: 'sysctl', netns: s, key: 'net.ipv6.icmp.echo_ignore_all', value: '1' }],
      ],
    ]);
  }, 60_000);

  /** Captures both ends while `traffic` runs, until `done` holds of the JSON lines. */
  async function capture(
    traffic: () => Promise<unknown>,
    done: (lines: readonly string[]) => boolean,
    extra: readonly string[] = [],
  ): Promise<string[]> {
    return (await captureWhile(['-i', `${c}/eth0`, '-i', `${s}/eth0`, ...extra], 2, traffic, done)).lines;
  }
});
