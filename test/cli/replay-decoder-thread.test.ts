// `replay` without pacing decodes on a second thread (src/sources/file-decoder-thread.ts);
// a paced replay reads in one thread. Both must give the same records (and with
// --packets --json the same packet lines, in the same places), byte for byte:
// the shipped incidents (lost, unanswered, error, several hosts), two recordings merged,
// a damaged file, DNS over TCP (the corpus's, and crafted: reassembled, pipelined, resent),
// and 200k generated packets (the ring between the threads laps many times).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayMayUseDecoderThread } from '../../src/sources/decoder-thread-boot.js';
import {
  Conversation,
  cut,
  dnsQuery,
  dnsResponse,
  framed,
  pcapFile,
  type Timed,
} from '../correlate/support/dns-tcp-frames.js';
import { CORPUS_AVAILABLE, corpusPath } from '../decode/support/corpus.js';
import { concat } from '../decode/support/hex.js';
import { runCli } from '../support/run-cli.js';

/** Paced this fast, a replay waits for nothing but still reads in one thread. */
const ONE_THREAD = ['--speed', '1e12'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-decoder-thread-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A mixed capture of `packets` packets in 5000 flows (scripts/gen-mixed-pcap.mjs), in the test's directory. */
function generated(name: string, packets: number): string {
  const file = join(dir, name);
  const gen = spawnSync(process.execPath, [
    'scripts/gen-mixed-pcap.mjs',
    file,
    '--packets',
    String(packets),
    '--flows',
    '5000',
  ]);
  expect(gen.status).toBe(0);
  return file;
}

function both(args: string[]): void {
  const threaded = runCli(['replay', ...args]);
  const single = runCli(['replay', ...args, ...ONE_THREAD]);
  expect(threaded.stdout.length).toBeGreaterThan(0);
  expect(threaded.stdout).toBe(single.stdout);
  expect(threaded.stderr).toBe(single.stderr);
  expect(threaded.status).toBe(single.status);
}

describe('replay on the decoder thread', () => {
  for (const file of [
    'dvr-fip-sg-drop.pcapng',
    'nova-flat-reply-drop-br100.pcapng',
    'sdn-vxlan-mtu-mismatch.pcapng',
    'dnat-local-no-route-localnet.pcapng',
  ]) {
    it(`${file}: the same JSON records and text report as one thread`, () => {
      both([`captures/${file}`, '--json']);
      both([`captures/${file}`]);
      // every packet's JSON line, written on the decoder thread, in the same place among the verdicts
      both([`captures/${file}`, '--packets', '--json']);
    });
  }

  it('DNS over TCP (the corpus, and a query cut in segments, pipelined, resent, begun before the capture, never ended): the same dns exchanges', () => {
    const file = join(dir, 'dns-tcp.pcap');
    writeFileSync(file, pcapFile(dnsOverTcpConversations()));
    both([file, '--json']);
    both([file]);
    const dns = runCli(['replay', file, '--json'])
      .stdout.split('\n')
      .filter((l) => l.includes('"kind":"dns"'))
      .map((l) => JSON.parse(l) as { key: string; status: string });
    expect(dns.map((x) => [x.key, x.status]).sort()).toEqual([
      ['10.0.0.5>10.0.0.53 id=1 one.example.org A', 'ok'],
      ['10.0.0.5>10.0.0.53 id=2 two.example.org A', 'error'],
      ['10.0.0.5>10.0.0.53 id=3 three.example.org A', 'ok'],
      ['10.0.0.5>10.0.0.53 id=4 four.example.org A', 'ok'],
      ['10.0.0.5>10.0.0.53 id=5 five.example.org A', 'ok'],
      ['10.0.0.5>10.0.0.53 id=6 six.example.org A', 'ok'],
    ]);
    if (CORPUS_AVAILABLE) {
      for (const name of ['dns_tcp.pcap', 'dns-edns-ecs.pcap']) {
        both([corpusPath(name), '--json']);
        both([corpusPath(name), '--packets', '--json']);
      }
      const corpus = runCli(['replay', corpusPath('dns_tcp.pcap'), '--json']).stdout;
      expect(corpus).toMatch(
        /"kind":"dns","key":"192.168.1.11>209.87.249.18 id=17177 www.tcpdump.org A","flow":\{[^}]*"transport":"tcp"\},"status":"ok"/,
      );
    }
  });

  it('two recordings merged: the same records', () => {
    both(['captures/dvr-fip-sg-drop.pcapng', 'captures/nova-flat-reply-drop-br100.pcapng', '--json']);
  });

  it('a file cut short: the same warning, and the verdicts of every whole packet', () => {
    const whole = readFileSync('captures/nova-flat-reply-drop-br100.pcapng');
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
    both([cut, '--json']);
    const r = runCli(['replay', cut]);
    expect(r.stderr).toMatch(/warning/);
    expect(r.stdout).toMatch(/exchanges:/);
  });

  it('a damaged file: exit 2 with the byte offset, after the verdicts before the fault', () => {
    const whole = readFileSync('captures/dvr-fip-sg-drop.pcapng');
    const bad = Buffer.from(whole);
    // a block length that is not a multiple of 4, two thirds in (the error names that field)
    const at = findBlockAfter(bad, Math.floor(bad.length * 0.66));
    bad.writeUInt32LE(bad.readUInt32LE(at + 4) + 1, at + 4);
    const file = join(dir, 'bad.pcapng');
    writeFileSync(file, bad);
    both([file, '--json']);
    const r = runCli(['replay', file, '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`not a multiple of 4 at byte ${at + 4} \\(packet \\d+\\)`));
    // the packets of the chunk read before the fault are judged too, not dropped with it
    expect(r.stdout).toMatch(/"type":"exchange"/);
  });

  it('the thread started early: one never taken lets the process end; --packets lets it go', () => {
    // The CLI starts it for every replay (decoder-thread-boot.ts); an error before the
    // replay takes it (here: no such file) must not leave the process waiting on it.
    const boot = new URL('../../dist/sources/decoder-thread-boot.js', import.meta.url).href;
    const script = join(dir, 'boot-only.mjs');
    writeFileSync(
      script,
      `import { bootDecoderThread } from '${boot}';\nbootDecoderThread();\nconsole.log('booted');\n`,
    );
    const idle = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(idle.error).toBeUndefined(); // not killed by the timeout
    expect(idle.status).toBe(0);
    expect(idle.stdout).toBe('booted\n');
    const missing = runCli(['replay', join(dir, 'no-such-file.pcap')], { timeout: 60_000 });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const packets = runCli(['replay', 'captures/dvr-fip-sg-drop.pcapng', '--packets'], { timeout: 60_000 });
    expect(packets.status).not.toBeNull();
    expect(packets.stdout.split('\n').length).toBeGreaterThan(10);
  });

  it('the CLI starts it early only for a replay that will take it', () => {
    expect(replayMayUseDecoderThread(['a.pcap'], false)).toBe(true);
    expect(replayMayUseDecoderThread(['a.pcap', '--json'], true)).toBe(true);
    // the TUI, packets printed as text, paced: decoded on the command's own thread
    expect(replayMayUseDecoderThread(['a.pcap'], true)).toBe(false);
    expect(replayMayUseDecoderThread(['a.pcap', '--packets'], false)).toBe(false);
    // packets as JSON lines: written on the decoder thread
    expect(replayMayUseDecoderThread(['a.pcap', '--packets', '--json'], false)).toBe(true);
    expect(replayMayUseDecoderThread(['a.pcap', '--speed', '2'], false)).toBe(false);
    expect(replayMayUseDecoderThread(['a.pcap', '--speed=2', '--json'], false)).toBe(false);
    expect(replayMayUseDecoderThread(['--realtime', 'a.pcap'], false)).toBe(false);
  });

  it('200k generated packets: the same records', () => {
    both([generated('mixed.pcap', 200_000), '--json']);
  });

  it('60k generated packets with --packets --json: the same lines (the ring laps several times)', () => {
    // (35 MB of output: within what the comparison holds in memory)
    both([generated('mixed-60k.pcap', 60_000), '--packets', '--json']);
  });
});

/**
 * DNS over TCP, one conversation per case (client ports 40001…, a second apart): a
 * query cut in its name; a query in three pieces answered NXDOMAIN; two queries in one
 * segment; a query sent twice; the rest of a query whose start was before the capture
 * (nothing), then a whole one; a length prefix for bytes that never come (nothing).
 */
function dnsOverTcpConversations(): Timed[] {
  const q = (id: number, name: string): Uint8Array => framed(dnsQuery(id, name));
  const a = (id: number, name: string, rcode = 0): Uint8Array => framed(dnsResponse(id, name, rcode));
  const IN_NAME = 2 + 12 + 6; // the length, the header, "\x03one" / "\x03two" / …, two bytes more
  const [one1, one2] = cut(q(1, 'one.example.org'), IN_NAME);
  const cases = [
    new Conversation(10, 20, 40001)
      .handshake(0)
      .send('client', one1, 1)
      .send('client', one2, 2)
      .send('server', a(1, 'one.example.org'), 5),
    new Conversation(30, 40, 40002).handshake(0),
    new Conversation(50, 60, 40003)
      .handshake(0)
      .send('client', concat(q(3, 'three.example.org'), q(4, 'four.example.org')), 1)
      .send('server', concat(a(4, 'four.example.org'), a(3, 'three.example.org')), 4),
    new Conversation(70, 80, 40004)
      .handshake(0)
      .send('client', q(5, 'five.example.org'), 1)
      .resend('client', 0, q(5, 'five.example.org'), 3)
      .send('server', a(5, 'five.example.org'), 5),
    new Conversation(90, 100, 40005)
      .skip('client', IN_NAME)
      .send('client', cut(q(99, 'lost.example.org'), IN_NAME)[1], 1)
      .send('client', q(6, 'six.example.org'), 2)
      .send('server', a(6, 'six.example.org'), 4),
    new Conversation(110, 120, 40006)
      .handshake(0)
      .send('client', framed(dnsQuery(7, 'seven.example.org'), 0xffff), 1),
  ];
  for (const [i, piece] of cut(q(2, 'two.example.org'), 1, IN_NAME).entries())
    cases[1].send('client', piece, 1 + i);
  cases[1].send('server', a(2, 'two.example.org', 3), 6);
  return cases
    .flatMap((c, i) => c.close(10).packets.map((p) => ({ ...p, ms: p.ms + i * 1000 })))
    .sort((x, y) => x.ms - y.ms);
}

/** Byte offset of the first pcapng block at or after `from` (walking the blocks from the start). */
function findBlockAfter(b: Buffer, from: number): number {
  let at = 0;
  while (at < from) at += b.readUInt32LE(at + 4);
  return at;
}
