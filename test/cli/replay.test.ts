// `hopscope replay` as a user runs it: recordings in, packets and records out,
// one-line errors that say where a file went wrong.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPath } from '../decode/support/corpus.js';
import { pcapngOneInterface } from '../framing/fixtures.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-replay-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The packet lines of text output (verdicts and the summary follow them). */
function packetLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^\d+\.\d{9} /.test(l));
}

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('hopscope replay', () => {
  it('prints every packet tcpdump-style with the interface label taken from the file name', () => {
    const file = join(dir, 'natdrop-qg.pcap');
    copyFileSync(corpusPath('5-pings.pcap'), file);
    const r = runCli(['replay', file, '--packets']);
    expect(r.status).toBe(0);
    const lines = packetLines(r.stdout);
    expect(lines).toHaveLength(10);
    // five echo exchanges, all answered
    expect(r.stdout).toContain('5 exchanges: 5 ok, 0 lost, 0 unanswered, 0 error, 0 inconclusive');
    expect(lines[0]).toBe(
      '1607454603.986596000 natdrop-qg IP 172.16.133.2 > 172.217.11.78: ICMP echo request, id 1226, seq 1, length 98',
    );
    expect(lines[1]).toContain('ICMP echo reply, id 1226, seq 1');
  });

  it('merges several files by timestamp, each interface labelled by its file', () => {
    const a = join(dir, 'tap-side.pcap');
    const b = join(dir, 'qg-side.pcap');
    copyFileSync(corpusPath('5-pings.pcap'), a);
    copyFileSync(corpusPath('icmp-ping.pcap'), b);
    const r = runCli(['replay', a, b, '--packets', '--json']);
    expect(r.status).toBe(0);
    const records = jsonLines(r.stdout);
    const interfaces = records.filter((x) => x.type === 'interface');
    expect(interfaces.map((x) => x.label)).toEqual(['tap-side', 'qg-side']);
    const packets = records.filter((x) => x.type === 'packet');
    expect(packets).toHaveLength(14);
    const ts = packets.map((p) => String(p.ts));
    expect(
      [...ts].sort((x, y) => Number(x.split('.')[0]) - Number(y.split('.')[0]) || x.localeCompare(y)),
    ).toEqual(ts);
    expect(packets.map((p) => p.n)).toEqual(packets.map((_, i) => i + 1));
    const stats = records.filter((x) => x.type === 'stats');
    expect(stats).toEqual([
      { type: 'stats', iface: 'tap-side', received: 10, dropped: 0, final: true },
      { type: 'stats', iface: 'qg-side', received: 4, dropped: 0, final: true },
    ]);
  });

  it("gives each interface its time stamps' resolution in ns, from the file: pcap magic, pcapng if_tsresol", () => {
    // 2^-20 s per unit: 953.67 ns, which cannot tell apart stamps 953 ns apart
    const binary = join(dir, 'binary-unit.pcapng');
    writeFileSync(binary, pcapngOneInterface('compute:tap-b', [1_700_000_000n << 20n], 0x94));
    const files = [
      corpusPath('dns_tcp.pcap'), // pcap, magic a1b2c3d4: µs
      corpusPath('tcp-handshake-nano.pcap'), // pcap, magic a1b23c4d: ns
      corpusPath('pcapng-multi-interface.pcapng'), // if_tsresol 9 and 6
      corpusPath('gopacket-le-test902.pcapng'), // if_tsresol 0x88: 2^-8 s
      binary,
    ];
    const expected = [
      ['dns_tcp', 1000],
      ['tcp-handshake-nano', 1],
      ['eth0', 1],
      ['\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}', 1000],
      ['eth0', 3906250],
      ['compute:tap-b', 954],
    ];
    // verdicts only: the files are decoded on the second thread, which hands the interfaces on
    const threaded = runCli(['replay', ...files, '--json']);
    // packets printed: decoded on the main thread
    const printed = runCli(['replay', ...files, '--json', '--packets']);
    for (const r of [threaded, printed]) {
      // (0 or 1: these unrelated files hold exchanges cut short)
      expect([0, 1], r.stderr).toContain(r.status);
      const interfaces = jsonLines(r.stdout).filter((x) => x.type === 'interface');
      expect(interfaces.map((x) => [x.label, x.tsResolutionNs])).toEqual(expected);
    }
  });

  it('emits the packet record of docs/json-lines.md: DNS, VXLAN inner addresses with the outer in tunnel', () => {
    const dns = jsonLines(
      runCli(['replay', corpusPath('dns_udp.pcap'), '--packets', '--json']).stdout,
    ).filter((x) => x.type === 'packet');
    expect(dns[1]).toMatchObject({
      layers: ['eth', 'ipv4', 'udp', 'dns'],
      src: '209.87.249.18',
      dst: '192.168.1.11',
      proto: 'udp',
      sport: 53,
      dns: { id: 22836, qr: true, rcode: 0, qname: 'www.tcpdump.org', qtype: 'A' },
      tunnel: null,
      malformed: null,
    });
    const vx = jsonLines(runCli(['replay', corpusPath('vxlan.pcap'), '--packets', '--json']).stdout).filter(
      (x) => x.type === 'packet',
    );
    expect(vx[0]).toMatchObject({
      src: '192.168.203.3',
      dst: '192.168.203.5',
      proto: 'icmp',
      icmp: { type: 8, code: 0, id: 1292, seq: 1 },
      tunnel: { type: 'vxlan', vni: 100, outerSrc: '192.168.203.1', outerDst: '192.168.202.1' },
    });
    expect(String(vx[0].ts)).toMatch(/^\d+\.\d{9}$/);
  });

  it('a file that is not a capture: exit 2, one line naming the file and the byte offset', () => {
    const bogus = join(dir, 'notes.pcap');
    writeFileSync(bogus, 'this is not a capture file at all\n');
    const r = runCli(['replay', bogus]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/notes\.pcap: not a pcap or pcapng file.*at byte 0/);
  });

  it('a damaged pcapng: exit 2 with the offset of the bad block', () => {
    const r = runCli(['replay', corpusPath('pcapng-block-len-not-mult4.pcapng')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/block length \d+ not a multiple of 4 at byte \d+/);
  });

  it('a capture cut short still yields every whole packet before the cut, with a warning', () => {
    const whole = readFileSync(corpusPath('5-pings.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const r = runCli(['replay', cut, '--packets']);
    expect(r.status).toBe(0);
    expect(packetLines(r.stdout)).toHaveLength(9);
    expect(r.stderr).toMatch(/warning: .*cut short/);
  });

  it('a missing file is a usage error', () => {
    const r = runCli(['replay', join(dir, 'nope.pcapng')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no such file');
  });
});
