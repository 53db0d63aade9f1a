import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InterfaceStats } from '../../src/events/types.js';
import {
  CaptureFormatError,
  formatTimestamp,
  mergeCaptureFiles,
  type MergedInterface,
} from '../../src/framing/index.js';
import { PCAPNG_TWO_SECTIONS, pcapMicro, pcapngOneInterface } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-merge-'));
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const S = 1_700_000_000_000_000_000n; // 1700000000 s in ns
const us = (n: number): bigint => S + BigInt(n) * 1000n;

async function merge(
  paths: string[],
  chunkSize?: number,
  clockAheadNs?: number[],
): Promise<{
  ifaces: MergedInterface[];
  packets: string[];
  stats: InterfaceStats[];
  warnings: string[];
  events: string[];
}> {
  const ifaces: MergedInterface[] = [];
  const packets: string[] = [];
  const stats: InterfaceStats[] = [];
  const warnings: string[] = [];
  const events: string[] = [];
  const seenIds = new Set<number>();
  await mergeCaptureFiles(
    paths,
    (i) => {
      ifaces.push(i);
      seenIds.add(i.id);
      events.push(`i${i.id}`);
    },
    (p) => {
      // an interface is always announced before its first packet
      expect(seenIds.has(p.interfaceId)).toBe(true);
      packets.push(
        `${p.interfaceId} ${formatTimestamp(p.tsSec, p.tsNsec)} ${Buffer.from(p.data.subarray(p.offset, p.offset + p.caplen)).toString('hex')}`,
      );
      events.push('p');
    },
    {
      chunkSize,
      ...(clockAheadNs !== undefined ? { clockAheadNs } : {}),
      onStats: (s) => void stats.push(s),
      onWarning: (m) => void warnings.push(m),
    },
  );
  return { ifaces, packets, stats, warnings, events };
}

describe('mergeCaptureFiles', () => {
  const a = file('natdrop-qg.pcap', pcapMicro([us(1), us(3), us(5)]));
  const b = file('b.pcapng', pcapngOneInterface('compute:qrouter-x/qr-1', [us(2), us(3), us(4), us(6)]));

  it('interleaves by timestamp; equal timestamps keep file order', async () => {
    for (const chunkSize of [undefined, 1, 17, 64]) {
      const { packets } = await merge([a, b], chunkSize);
      expect(packets, `chunkSize ${chunkSize}`).toEqual([
        '0 1700000000.000001000 00000000',
        '1 1700000000.000002000 00000000', // pcapngOneInterface stores t % 1000 (here 0)
        '0 1700000000.000003000 01000000',
        '1 1700000000.000003000 00000000',
        '1 1700000000.000004000 00000000',
        '0 1700000000.000005000 02000000',
        '1 1700000000.000006000 00000000',
      ]);
    }
  });

  it('files of clocks that disagree: merged on one clock, each packet keeping its own time stamp', async () => {
    // b's clock 2.0015 s ahead (its packets of 2, 3, 4, 6 µs stamped so), a's 1.5 ms behind
    const ahead = 2_001_500_000;
    const bAhead = file(
      'b-ahead.pcapng',
      pcapngOneInterface(
        'compute:eth0',
        [2, 3, 4, 6].map((n) => us(n) + BigInt(ahead)),
      ),
    );
    const aBehind = file('a-behind.pcap', pcapMicro([1, 3, 5].map((n) => us(n) - 1_500_000n)));
    for (const chunkSize of [undefined, 1, 17]) {
      const { packets } = await merge([aBehind, bAhead], chunkSize, [-1_500_000, ahead]);
      expect(
        packets.map((p) => p.slice(0, 2)),
        `chunkSize ${chunkSize}`,
      ).toEqual(['0 ', '1 ', '0 ', '1 ', '1 ', '0 ', '1 ']);
      expect(packets[1]).toBe('1 1700000002.001502000 00000000');
      expect(packets[0]).toBe('0 1699999999.998501000 00000000');
    }
    // told nothing: by the stamps as they are
    const { packets } = await merge([aBehind, bAhead]);
    expect(packets.map((p) => p.slice(0, 2))).toEqual(['0 ', '0 ', '0 ', '1 ', '1 ', '1 ', '1 ']);
  });

  it('labels: recorded name (parsed into host/netns/name), else the file base name', async () => {
    const { ifaces } = await merge([a, b]);
    expect(
      ifaces.map((i) => ({
        id: i.id,
        label: i.label,
        host: i.host,
        netns: i.netns,
        name: i.name,
        linktype: i.linktype,
      })),
    ).toEqual([
      { id: 0, label: 'natdrop-qg', host: null, netns: null, name: 'natdrop-qg', linktype: 1 },
      {
        id: 1,
        label: 'compute:qrouter-x/qr-1',
        host: 'compute',
        netns: 'qrouter-x',
        name: 'qr-1',
        linktype: 1,
      },
    ]);
    expect(ifaces[1].file).toBe(b);
    expect(ifaces[1].fileInterfaceId).toBe(0);
  });

  it('several unnamed interfaces in one file: <base>#<idx>; ids and stats mapped across files', async () => {
    const two = file('two-sections.pcapng', PCAPNG_TWO_SECTIONS);
    const { ifaces, packets, stats } = await merge([a, two]);
    expect(ifaces.map((i) => `${i.id} ${i.label}`)).toEqual([
      '0 natdrop-qg',
      '1 eth0',
      '2 two-sections#1',
      '3 two-sections#2',
      '4 tap0',
    ]);
    expect(ifaces[1].description).toBe('uplnk');
    expect(stats).toEqual([
      { interfaceId: 1, received: 100, dropped: 3, final: false },
      { interfaceId: 1, received: 100, dropped: 3, final: true },
    ]);
    // The fixture is not in time order (its 2^-8 s packet is 10 s ahead): a file's own
    // order is kept, as mergecap keeps it.
    expect(packets.map((p) => p.split(' ').slice(0, 2).join(' '))).toEqual([
      '0 1700000000.000001000',
      '0 1700000000.000003000',
      '0 1700000000.000005000',
      '1 1700000000.123456000',
      '2 1700000000.123456789',
      '3 1700000010.500000000',
      '1 1700000010.500000000',
      '1 1700000000.123457000',
      '4 1700000000.123458000',
    ]);
  });

  it('a single unnamed interface of a pcapng file gets the plain base name', async () => {
    const { ifaces } = await merge([file('vm-tap.pcapng', pcapngOneInterface(null, [us(1)]))]);
    expect(ifaces.map((i) => i.label)).toEqual(['vm-tap']);
  });

  it('warns when two files give the same label', async () => {
    const x = file('x1.pcapng', pcapngOneInterface('eth0', [us(1)]));
    const y = file('x2.pcapng', pcapngOneInterface('eth0', [us(2)]));
    const { warnings } = await merge([x, y]);
    expect(warnings).toEqual([
      `interfaces 0 (${x}) and 1 (${y}) are both labelled "eth0": name them with LABEL=FILE or HOST:=FILE`,
    ]);
  });

  it('streams: a long file is not read ahead of a short one (bounded queues)', async () => {
    // 20000 packets 10 µs apart vs one packet in the middle: the merged order proves
    // the other file's packet came out between, and with 4 KiB chunks each queue holds
    // at most 4096 / 20 ≈ 205 packets at a time.
    const long = file('long.pcap', pcapMicro(Array.from({ length: 20000 }, (_, i) => us(i * 10))));
    const one = file('one.pcapng', pcapngOneInterface('eth9', [us(100005)]));
    const { packets } = await merge([long, one], 4096);
    expect(packets.length).toBe(20001);
    expect(packets.findIndex((p) => p.startsWith('1 '))).toBe(10001);
  });

  it('a damaged file rejects with an error naming it, after the packets before the fault', async () => {
    const bad = pcapMicro([us(1), us(2)]);
    bad[24 + 20 + 8] = 0xff; // record 2 caplen → 0x...ff: far too long
    bad[24 + 20 + 11] = 0xff;
    const badPath = file('bad.pcap', bad);
    const packets: string[] = [];
    const err = await mergeCaptureFiles(
      [a, badPath],
      () => {},
      (p) => void packets.push(formatTimestamp(p.tsSec, p.tsNsec)),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).file).toBe(badPath);
    expect((err as CaptureFormatError).message).toMatch(
      /^.*bad\.pcap: pcap record caplen \d+ exceeds .* at byte 44 \(packet 2\)$/,
    );
  });

  it('a missing file rejects with the system error', async () => {
    await expect(
      mergeCaptureFiles(
        [join(dir, 'nope.pcap')],
        () => {},
        () => {},
      ),
    ).rejects.toThrow(/ENOENT/);
  });
});
