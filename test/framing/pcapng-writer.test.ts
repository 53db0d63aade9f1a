import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FramedPacket, InterfaceStats } from '../../src/events/types.js';
import {
  formatTimestamp,
  MAX_INTERFACE_ADDRESSES,
  mergeCaptureFiles,
  PcapngWriter,
  readCaptureBytes,
  type ByteSink,
  type MergedInterface,
} from '../../src/framing/index.js';
import { asTsharkShows, tsharkInterfaceAddresses } from '../support/tshark-interfaces.js';
import { collector } from './support.js';

const CORPUS = '/work/shared/corpus';
const dir = mkdtempSync(join(tmpdir(), 'hopscope-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixedClock = (): { sec: number; nsec: number } => ({ sec: 1700000100, nsec: 250000000 });

function tshark(path: string, fields: string[]): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', path, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  // not trimEnd(): a last empty field is a trailing tab
  return out
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.split('\t'));
}

/** A sink that keeps what it is given, to look at the bytes without a file. */
function memorySink(): ByteSink & { bytes(): Uint8Array; writes: number; closed: boolean } {
  const parts: Uint8Array[] = [];
  const sink = {
    writes: 0,
    closed: false,
    write(b: Uint8Array): void {
      parts.push(Uint8Array.from(b));
      sink.writes++;
    },
    close(): void {
      sink.closed = true;
    },
    bytes(): Uint8Array {
      return Uint8Array.from(Buffer.concat(parts));
    },
  };
  return sink;
}

const packet = (
  interfaceId: number,
  tsSec: number,
  tsNsec: number,
  bytes: number[],
  direction = 0,
  len = bytes.length,
): FramedPacket => ({
  interfaceId,
  tsSec,
  tsNsec,
  caplen: bytes.length,
  len,
  data: Uint8Array.from(bytes),
  offset: 0,
  direction,
});

describe('pcapng writer: round trip through tshark and our reader', () => {
  // Five link types: EN10MB, LINUX_SLL (ns pcap), RAW, LINUX_SLL2, NULL; named and unnamed
  // interfaces; a capture of every device (linux_dlt_sll2: ifindex 1 and 26), which the
  // merge hands on as its two devices, each announced at its first packet.
  const sources = [
    'dns_tcp.pcap',
    'tcp-handshake-nano.pcap',
    'LINKTYPE_RAW_ipv6.pcap',
    'linux_dlt_sll2.pcap',
    'dns-badcookie.pcap',
    'pcapng-multi-interface.pcapng',
  ].map((f) => join(CORPUS, f));
  const out = join(dir, 'roundtrip.pcapng');
  const written: Array<{
    label: string;
    ts: string;
    len: number;
    caplen: number;
    bytes: string;
    direction: number;
  }> = [];
  const ifaces: MergedInterface[] = [];

  it('writes a merged recording', async () => {
    const w = PcapngWriter.toFile(out, { now: fixedClock });
    let n = 0;
    await mergeCaptureFiles(
      sources,
      (i) => {
        ifaces.push(i);
        w.addInterface(i);
      },
      (p) => {
        // give some packets a direction, to see epb_flags come back
        const direction = n++ % 3;
        w.writePacket({ ...p, direction });
        written.push({
          label: ifaces.find((i) => i.id === p.interfaceId)?.label ?? '',
          ts: formatTimestamp(p.tsSec, p.tsNsec),
          len: p.len,
          caplen: p.caplen,
          bytes: Buffer.from(p.data.subarray(p.offset, p.offset + p.caplen)).toString('hex'),
          direction,
        });
      },
    );
    w.close(ifaces.map((i) => ({ interfaceId: i.id, received: 1000 + i.id, dropped: i.id, final: true })));
    expect(written.length).toBe(11 + 3 + 1 + 6 + 4 + 6);
  });

  it('tshark shows the same interface names, nanosecond timestamps, lengths, directions and count', () => {
    const rows = tshark(out, [
      'frame.interface_name',
      'frame.time_epoch',
      'frame.len',
      'frame.cap_len',
      'frame.packet_flags_direction',
    ]);
    expect(rows).toEqual(
      written.map((w) => [
        w.label,
        w.ts,
        String(w.len),
        String(w.caplen),
        w.direction === 0 ? '' : `0x0000000${w.direction}`,
      ]),
    );
    // the labels: file base names for unnamed pcap interfaces, recorded names otherwise
    expect(ifaces.map((i) => i.label)).toEqual([
      'dns_tcp',
      'tcp-handshake-nano',
      'LINKTYPE_RAW_ipv6',
      'dns-badcookie',
      'eth0',
      '\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}', // as recorded by Wireshark on Windows
      'linux_dlt_sll2#if1',
      'linux_dlt_sll2#if26',
    ]);
  });

  it('tshark reads the IDBs (link types, snaplen, resolution) and capinfos the statistics', () => {
    const info = execFileSync('capinfos', ['-M', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(info).toMatch(/File type:\s+pcapng/);
    expect(info).toMatch(/Number of packets:\s+31/);
    expect(info).toMatch(/Number of interfaces in file: 8/);
    expect(info).toMatch(/Encapsulation = Linux cooked-mode capture v2/);
    // each interface in its source's resolution: a µs pcap's stamps stay µs, not ns
    expect(
      [...info.matchAll(/Name = (.*)\n(?:.*\n)*?\s+Time precision = (\w+)/g)].map((m) => [m[1], m[2]]),
    ).toEqual([
      ['dns_tcp', 'microseconds'],
      ['tcp-handshake-nano', 'nanoseconds'],
      ['LINKTYPE_RAW_ipv6', 'microseconds'],
      ['dns-badcookie', 'microseconds'],
      ['eth0', 'nanoseconds'],
      ['\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}', 'microseconds'],
      ['linux_dlt_sll2#if1', 'microseconds'],
      ['linux_dlt_sll2#if26', 'microseconds'],
    ]);
    expect(info).toMatch(/Capture application: hopscope/);
    expect(info).toMatch(/Name = tcp-handshake-nano\n\s+Encapsulation = Linux cooked-mode capture v1/);
    expect(info).toMatch(/Description = Ethernet 2/);
    // one ISB per interface (capinfos counts them; our reader checks their values below)
    expect(info.match(/Number of stat entries = 1/g)?.length).toBe(8);
  });

  it('our reader reads back exactly what was written, statistics included', () => {
    const { seen, handlers } = collector();
    readCaptureBytes(readFileSync(out), handlers);
    expect(seen.sections.map((s) => s.userAppl)).toEqual(['hopscope']);
    expect(seen.interfaces.map((i) => [i.name, i.linktype, i.tsResolution.exponent])).toEqual(
      ifaces.map((i, k) => [i.label, i.linktype, [6, 9, 6, 6, 9, 6, 6, 6][k]]),
    );
    expect(
      seen.packets.map((p) => ({
        label: seen.interfaces[p.iface].name,
        ts: p.ts,
        len: p.len,
        caplen: p.caplen,
        bytes: p.bytes,
        direction: p.direction,
      })),
    ).toEqual(written);
    expect(seen.stats.filter((s) => s.final)).toEqual(
      // (read back by the order they were written in)
      ifaces.map((i, k) => ({ interfaceId: k, received: 1000 + i.id, dropped: i.id, final: true })),
    );
  });

  it('creates the file with mode 0600, whatever the umask and an existing file said', () => {
    const path = join(dir, 'mode.pcapng');
    writeFileSync(path, 'old');
    chmodSync(path, 0o666);
    const old = process.umask(0);
    try {
      PcapngWriter.toFile(path).close();
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const fresh = join(dir, 'fresh.pcapng');
      PcapngWriter.toFile(fresh).close();
      expect(statSync(fresh).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
});

describe('pcapng writer: buffering and blocks', () => {
  it('buffers until flush(): a recorder flushing every second loses at most that second', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { now: fixedClock });
    w.addInterface({ id: 7, label: 'br100', linktype: 1, snaplen: 262144 });
    w.writePacket(packet(7, 1700000000, 1, [1, 2, 3]));
    expect(sink.writes).toBe(0);
    const before = w.bytesWritten;
    w.flush();
    expect(sink.writes).toBe(1);
    expect(sink.bytes().length).toBe(before);
    w.flush(); // nothing new: no empty write
    expect(sink.writes).toBe(1);
    w.close();
    expect(sink.closed).toBe(true);
    w.close(); // idempotent
  });

  it('a packet larger than the buffer goes out whole, in pieces', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { bufferSize: 4096, now: fixedClock });
    w.addInterface({ id: 0, label: 'vxlan_sys_4789', linktype: 1, snaplen: 262144 });
    const big = Array.from({ length: 10001 }, (_, i) => i & 0xff);
    w.writePacket(packet(0, 1700000000, 5, [9, 9]));
    w.writePacket(packet(0, 1700000000, 6, big, 2, 20000));
    w.writePacket(packet(0, 1700000000, 7, [8]));
    w.close();
    const { seen, handlers } = collector();
    readCaptureBytes(sink.bytes(), handlers);
    expect(seen.packets.map((p) => [p.ts, p.caplen, p.len, p.direction])).toEqual([
      ['1700000000.000000005', 2, 2, 0],
      ['1700000000.000000006', 10001, 20000, 2],
      ['1700000000.000000007', 1, 1, 0],
    ]);
    expect(seen.packets[1].bytes).toBe(Buffer.from(big).toString('hex'));
  });

  it('interfaces may be added at any time: each IDB precedes its first packet', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { now: fixedClock });
    expect(
      w.addInterface({ id: 3, label: 'tap1', linktype: 1, snaplen: 65535, description: 'vm port' }),
    ).toBe(0);
    w.writePacket(packet(3, 1700000000, 0, [1]));
    expect(
      w.addInterface({ id: 1, label: 'root@compute2:qrouter-1/qr-2', linktype: 113, snaplen: 65535 }),
    ).toBe(1);
    expect(w.addInterface({ id: 3, label: 'tap1', linktype: 1, snaplen: 65535 })).toBe(0); // again: no second IDB
    w.writePacket(packet(1, 1700000000, 1, [2]));
    w.writePacket(packet(3, 1700000000, 2, [3]));
    w.close([{ interfaceId: 1, received: 5, dropped: 0, final: true }]);
    const { seen, handlers } = collector();
    readCaptureBytes(sink.bytes(), handlers);
    expect(seen.events).toEqual(['i0', 'p1', 'i1', 'p2', 'p3', 's1', 's1']);
    expect(seen.interfaces.map((i) => [i.name, i.description])).toEqual([
      ['tap1', 'vm port'],
      ['root@compute2:qrouter-1/qr-2', null],
    ]);
  });

  it('ISB: 64-bit counters, start/end times from the clock in nanoseconds', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { now: fixedClock });
    w.addInterface({ id: 0, label: 'eth0', linktype: 1, snaplen: 0 });
    const stats: InterfaceStats = { interfaceId: 0, received: 2 ** 40 + 5, dropped: 3, final: true };
    w.close([stats]);
    const bytes = sink.bytes();
    const { seen, handlers } = collector();
    readCaptureBytes(bytes, handlers);
    expect(seen.stats.at(-1)).toEqual({ interfaceId: 0, received: 2 ** 40 + 5, dropped: 3, final: true });
    expect(seen.statTimes.at(-1)?.end).toEqual({ sec: 1700000100, nsec: 250000000 });
    // the ISB is the last block: type 5, length 76 (type, length, interface, timestamp: 20;
    // starttime/endtime/ifrecv/ifdrop 12 each; endofopt 4; trailer 4); its timestamp is
    // 1700000100.25 s in ns
    const isb = Buffer.from(bytes.subarray(bytes.length - 76));
    expect(isb.readUInt32LE(0)).toBe(5);
    expect(isb.readUInt32LE(4)).toBe(76);
    const ns = (o: number): bigint => (BigInt(isb.readUInt32LE(o)) << 32n) | BigInt(isb.readUInt32LE(o + 4));
    expect(ns(12)).toBe(1700000100250000000n);
    expect(isb.readUInt16LE(20)).toBe(2); // isb_starttime
    expect(isb.readUInt16LE(32)).toBe(3); // isb_endtime
    // option timestamps are laid out as the block's: high word, then low word
    expect(ns(36)).toBe(1700000100250000000n);
  });

  it('packets of every length, at any alignment, across seconds: each EPB exactly as laid out in the spec', () => {
    // the writer stores whole words where it can (a packet starting on a 4-byte boundary):
    // every alignment and tail length must come out the same as byte by byte
    let seed = 99;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const backing = new Uint8Array(64 * 1024).map(() => rand() & 0xff);
    const views = [
      backing,
      backing.subarray(1),
      backing.subarray(2),
      backing.subarray(4),
      Uint8Array.from(backing),
    ];
    const sink = memorySink();
    const w = new PcapngWriter(sink, { bufferSize: 4096 });
    for (let id = 0; id < 3; id++) w.addInterface({ id, label: `if${id}`, linktype: 1, snaplen: 0 });
    const sent: Array<{ iface: number; ns: bigint; len: number; bytes: number[]; direction: number }> = [];
    let sec = 1_700_000_000;
    // a second whose nanosecond units' low half plus some nanoseconds is exactly 2^32 (the carry's edge)
    let edgeSec = 1_700_000_000;
    while (Number((BigInt(edgeSec) * 1_000_000_000n) % 4294967296n) <= 4294967296 - 1_000_000_000) edgeSec++;
    const edgeNsec = 4294967296 - Number((BigInt(edgeSec) * 1_000_000_000n) % 4294967296n);
    for (let k = 0; k < 3000; k++) {
      if (k % 97 === 0) sec += 1 + (rand() % 3);
      if (k === 1500) sec = edgeSec;
      const nsec = k === 1500 ? edgeNsec : k % 50 === 0 ? 999_999_999 : rand() % 1_000_000_000;
      const data = views[k % views.length];
      const caplen = rand() % 301;
      const offset = rand() % 8000;
      const direction = [0, 1, 2, 3][rand() % 4];
      const p: FramedPacket = {
        interfaceId: k % 3,
        tsSec: sec,
        tsNsec: nsec,
        caplen,
        len: caplen + (k % 5),
        data,
        offset,
        direction,
      };
      w.writePacket(p);
      sent.push({
        iface: k % 3,
        ns: BigInt(sec) * 1_000_000_000n + BigInt(nsec),
        len: caplen + (k % 5),
        bytes: Array.from(data.subarray(offset, offset + caplen)),
        direction: direction === 1 || direction === 2 ? direction : 0,
      });
    }
    w.close();
    // walk the blocks by hand
    const out = sink.bytes();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const got: typeof sent = [];
    for (let o = 0; o < out.length;) {
      const type = dv.getUint32(o, true);
      const total = dv.getUint32(o + 4, true);
      expect(dv.getUint32(o + total - 4, true)).toBe(total);
      if (type === 6) {
        const caplen = dv.getUint32(o + 20, true);
        const padded = caplen + ((4 - (caplen & 3)) & 3);
        // padding is zeros
        for (let k = o + 28 + caplen; k < o + 28 + padded; k++) expect(out[k]).toBe(0);
        let direction = 0;
        if (total > 28 + padded + 4) {
          expect([dv.getUint16(o + 28 + padded, true), dv.getUint16(o + 30 + padded, true)]).toEqual([2, 4]);
          direction = dv.getUint32(o + 32 + padded, true);
          expect(dv.getUint32(o + 36 + padded, true)).toBe(0);
          expect(total).toBe(28 + padded + 16);
        } else expect(total).toBe(28 + padded + 4);
        got.push({
          iface: dv.getUint32(o + 8, true),
          ns: (BigInt(dv.getUint32(o + 12, true)) << 32n) | BigInt(dv.getUint32(o + 16, true)),
          len: dv.getUint32(o + 24, true),
          bytes: Array.from(out.subarray(o + 28, o + 28 + caplen)),
          direction,
        });
      }
      o += total;
    }
    expect(got).toEqual(sent);
  });

  it('an interface of a µs source is written in µs (if_tsresol 6): EPBs across seconds and the carry, its ISB too', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { now: fixedClock });
    w.addInterface({ id: 0, label: 'compute:tap1', linktype: 1, snaplen: 0, tsResolutionNs: 1000 });
    w.addInterface({ id: 1, label: 'br100', linktype: 1, snaplen: 0, tsResolutionNs: 1 });
    // not a power of ten (a base-2 file's unit): nanoseconds hold it exactly
    w.addInterface({ id: 2, label: 'odd', linktype: 1, snaplen: 0, tsResolutionNs: 954 });
    // a second whose µs units' low half plus some µs is exactly 2^32 (the carry's edge)
    let edgeSec = 1_700_000_000;
    while (Number((BigInt(edgeSec) * 1_000_000n) % 4294967296n) <= 4294967296 - 1_000_000) edgeSec++;
    const edgeUs = 4294967296 - Number((BigInt(edgeSec) * 1_000_000n) % 4294967296n);
    const sent: Array<[number, number, number]> = [
      [0, 1_700_000_000, 123_456_000],
      [1, 1_700_000_000, 123_456_789],
      [0, 1_700_000_000, 999_999_000],
      [0, 1_700_000_001, 0],
      [2, 1_700_000_001, 953],
      [0, edgeSec, edgeUs * 1000 - 1000],
      [1, edgeSec, edgeUs * 1000 + 1],
      [0, edgeSec, edgeUs * 1000],
      [0, edgeSec, 999_999_000],
    ];
    for (const [id, sec, nsec] of sent) w.writePacket(packet(id, sec, nsec, [id]));
    w.close([{ interfaceId: 0, received: 7, dropped: 0, final: true }]);
    const out = sink.bytes();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const idbResolutions: number[] = [];
    const epbUnits: Array<[number, bigint]> = [];
    let isb: bigint[] = [];
    for (let o = 0; o < out.length;) {
      const type = dv.getUint32(o, true);
      const total = dv.getUint32(o + 4, true);
      const u64 = (at: number): bigint =>
        (BigInt(dv.getUint32(at, true)) << 32n) | BigInt(dv.getUint32(at + 4, true));
      if (type === 1) {
        // options after linktype/snaplen: if_name, then if_tsresol (code 9, length 1)
        for (let p = o + 16; p < o + total - 4;) {
          const code = dv.getUint16(p, true);
          const len = dv.getUint16(p + 2, true);
          if (code === 9) idbResolutions.push(out[p + 4]);
          if (code === 0) break;
          p += 4 + ((len + 3) & ~3);
        }
      } else if (type === 6) epbUnits.push([dv.getUint32(o + 8, true), u64(o + 12)]);
      else if (type === 5) isb = [u64(o + 12), u64(o + 24), u64(o + 36)]; // time, isb_starttime, isb_endtime
      o += total;
    }
    expect(idbResolutions).toEqual([6, 9, 9]);
    expect(epbUnits).toEqual(
      sent.map(([id, sec, nsec]) => [
        id,
        id === 0
          ? BigInt(sec) * 1_000_000n + BigInt(nsec / 1000)
          : BigInt(sec) * 1_000_000_000n + BigInt(nsec),
      ]),
    );
    // the statistics block's time, start and end, in the interface's µs
    expect(isb).toEqual([1700000100250000n, 1700000100250000n, 1700000100250000n]);
    // read back: the same stamps, to the nanosecond, and the same resolutions
    const { seen, handlers } = collector();
    readCaptureBytes(out, handlers);
    expect(seen.packets.map((p) => [p.iface, p.ts])).toEqual(
      sent.map(([id, sec, nsec]) => [id, formatTimestamp(sec, nsec)]),
    );
    expect(seen.interfaces.map((i) => i.tsResolution)).toEqual([
      { base: 10, exponent: 6 },
      { base: 10, exponent: 9 },
      { base: 10, exponent: 9 },
    ]);
    expect(seen.statTimes.at(-1)?.end).toEqual({ sec: 1700000100, nsec: 250000000 });
  });

  it(`writes an interface's addresses (if_IPv4addr, if_IPv6addr; at most ${MAX_INTERFACE_ADDRESSES}) for our reader and tshark`, () => {
    const path = join(dir, 'addresses.pcapng');
    const w = PcapngWriter.toFile(path, { now: fixedClock });
    w.addInterface({
      id: 0,
      label: 'outside:eth0',
      linktype: 1,
      snaplen: 0,
      addresses: [
        '203.0.113.1/24',
        '10.0.0.5', // no prefix: the address alone, /32
        '2001:db8::1/64',
        'fe80::f816:3eff:fe5a:6b7c/64',
        '0.0.0.0/0',
        'not an address',
        '10.0.0.1/33',
      ],
    });
    w.addInterface({ id: 1, label: 'compute:tap1', linktype: 1, snaplen: 0 });
    // a host with more addresses than a reader takes: the first ones are written
    const many = Array.from({ length: MAX_INTERFACE_ADDRESSES + 6 }, (_, i) => `10.1.${i}.1/24`);
    w.addInterface({ id: 2, label: 'lb:lo', linktype: 1, snaplen: 0, addresses: many });
    for (const id of [0, 1, 2]) w.writePacket(packet(id, 1_700_000_000, id, [id]));
    w.close();
    const written = [
      '203.0.113.1/24',
      '10.0.0.5/32',
      '2001:db8::1/64',
      'fe80::f816:3eff:fe5a:6b7c/64',
      '0.0.0.0/0',
    ];
    const { seen, handlers } = collector();
    readCaptureBytes(readFileSync(path), handlers);
    expect(seen.warnings).toEqual([]);
    expect(seen.interfaces.map((i) => i.addresses)).toEqual([
      written,
      [],
      many.slice(0, MAX_INTERFACE_ADDRESSES),
    ]);
    expect(tsharkInterfaceAddresses(path)).toEqual(
      new Map([
        [
          'outside:eth0',
          [
            '203.0.113.1/255.255.255.0',
            '10.0.0.5/255.255.255.255',
            '2001:db8::1/64',
            'fe80::f816:3eff:fe5a:6b7c/64',
            '0.0.0.0/0.0.0.0',
          ],
        ],
        ['compute:tap1', []],
        ['lb:lo', many.slice(0, MAX_INTERFACE_ADDRESSES).map(asTsharkShows)],
      ]),
    );
    // and tshark still reads the packets of every interface
    expect(tshark(path, ['frame.interface_name'])).toEqual([['outside:eth0'], ['compute:tap1'], ['lb:lo']]);
  });

  it("writes an interface's MAC (if_MACaddr) for our reader and tshark; none when unknown or not one", () => {
    const path = join(dir, 'mac.pcapng');
    const w = PcapngWriter.toFile(path, { now: fixedClock });
    w.addInterface({ id: 0, label: 'compute:br100', linktype: 1, snaplen: 0, mac: 'FA:16:3e:00:00:01' });
    w.addInterface({ id: 1, label: 'compute:tap1', linktype: 1, snaplen: 0, mac: null });
    w.addInterface({ id: 2, label: 'compute:tun0', linktype: 101, snaplen: 0, mac: 'not a mac' });
    for (const id of [0, 1, 2]) w.writePacket(packet(id, 1_700_000_000, id, [id]));
    w.close();
    const { seen, handlers } = collector();
    readCaptureBytes(readFileSync(path), handlers);
    expect(seen.warnings).toEqual([]);
    expect(seen.interfaces.map((i) => i.mac)).toEqual(['fa:16:3e:00:00:01', null, null]);
    const shown = execFileSync('tshark', ['-r', path, '-X', 'read_format:MIME Files Format', '-V'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(shown.match(/Option: MAC Address = .*/g)).toEqual(['Option: MAC Address = fa:16:3e:00:00:01']);
  });

  it('refuses packets on interfaces it was not told of, and times it cannot write', () => {
    const w = new PcapngWriter(memorySink());
    w.addInterface({ id: 0, label: 'eth0', linktype: 1, snaplen: 0 });
    expect(() => w.writePacket(packet(1, 1, 0, [1]))).toThrow(/interface 1, which was not added/);
    expect(() => w.writePacket(packet(0, -5, 0, [1]))).toThrow(/cannot be written/);
    w.close();
    expect(() => w.writePacket(packet(0, 1, 0, [1]))).toThrow(/closed/);
  });
});
