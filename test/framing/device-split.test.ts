// A capture of every device (`tcpdump -i any`, LINUX_SLL2) read as the devices its
// packets' ifindex names (docs/spec-grammar.md "Captures of every device"): the merge
// announces one interface per device, at its first packet, and none for the capture.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InterfaceStats } from '../../src/events/types.js';
import { MAX_DEVICES } from '../../src/framing/device-split.js';
import {
  deviceComment,
  knownDevices,
  mergeCaptureFiles,
  PcapngWriter,
  splitsByDevice,
  type CaptureFileInput,
  type MergedInterface,
} from '../../src/framing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-device-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SLL2 = 276;
const SEC = 1_700_000_000;

/** A LINUX_SLL2 header (ifindex at bytes 4..8) and 4 bytes of IPv4-ish payload. */
function sll2Packet(ifindex: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16BE(0x0800, 0);
  b.writeUInt32BE(ifindex, 4);
  b.writeUInt16BE(1, 8);
  b[10] = 0;
  b[11] = 6;
  return b;
}

/** A µs pcap of `linktype` (no interface name: what `tcpdump -i any -w` writes). */
function pcap(name: string, linktype: number, packets: Buffer[]): string {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linktype, 20);
  const records = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(SEC, 0);
    r.writeUInt32LE(i, 4);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([head, ...records]));
  return path;
}

/** One LINUX_SLL2 packet of device `ifindex` on interface 0 of `w`. */
function writeSll2(w: PcapngWriter, ifindex: number): void {
  const data = sll2Packet(ifindex);
  w.writePacket({
    interfaceId: 0,
    tsSec: SEC,
    tsNsec: 0,
    caplen: 24,
    len: 24,
    data,
    offset: 0,
    direction: 0,
  });
}

interface Read {
  ifaces: MergedInterface[];
  /** the label of each packet's interface, in order */
  packets: string[];
  stats: InterfaceStats[];
}

async function read(...paths: Array<string | CaptureFileInput>): Promise<Read> {
  const ifaces: MergedInterface[] = [];
  const byId = new Map<number, MergedInterface>();
  const packets: string[] = [];
  const stats: InterfaceStats[] = [];
  await mergeCaptureFiles(
    paths,
    (i) => {
      ifaces.push(i);
      byId.set(i.id, i);
    },
    (p) => {
      const iface = byId.get(p.interfaceId);
      if (iface === undefined) throw new Error(`packet on ${p.interfaceId}, not announced`);
      packets.push(iface.label);
    },
    { onStats: (s) => stats.push(s) },
  );
  return { ifaces, packets, stats };
}

describe('which captures are split by device', () => {
  it('LINUX_SLL2 named any, or without a name; not a named device, nor SLL v1 or Ethernet', () => {
    expect(splitsByDevice(SLL2, null)).toBe(true);
    expect(splitsByDevice(SLL2, '')).toBe(true);
    expect(splitsByDevice(SLL2, 'any')).toBe(true);
    expect(splitsByDevice(SLL2, 'compute:qrouter-1/any')).toBe(true);
    expect(splitsByDevice(SLL2, 'compute:qrouter-1/qr-1')).toBe(false);
    expect(splitsByDevice(113, 'any')).toBe(false);
    expect(splitsByDevice(1, null)).toBe(false);
  });

  it('device comments read back as written; malformed ones are ignored', () => {
    const xra = { ifindex: 2, name: 'xra', addresses: ['10.91.1.1/24', 'fe80::1/64'] };
    const lo = { ifindex: 1, name: 'lo', addresses: [] };
    expect(knownDevices([deviceComment(xra), 'a comment', deviceComment(lo)])).toEqual([xra, lo]);
    expect(
      knownDevices([
        'hopscope: device x eth0',
        'hopscope: device 3',
        'hopscope: device 3 a/b',
        'hopscope: device -1 eth0',
        'hopscope: device 3 name-longer-than-15',
      ]),
    ).toEqual([]);
  });
});

describe('a capture of every device replayed', () => {
  it('tcpdump -i any -w: one interface per ifindex, announced at its first packet, labelled <file>#if<ifindex>', async () => {
    const r = await read(pcap('router.pcap', SLL2, [2, 3, 3, 2, 7].map(sll2Packet)));
    expect(r.ifaces.map((i) => [i.id, i.label, i.name, i.linktype])).toEqual([
      [0, 'router#if2', 'router#if2', SLL2],
      [1, 'router#if3', 'router#if3', SLL2],
      [2, 'router#if7', 'router#if7', SLL2],
    ]);
    expect(r.ifaces[0].description).toBe('ifindex 2 of router');
    expect(r.packets).toEqual(['router#if2', 'router#if3', 'router#if3', 'router#if2', 'router#if7']);
  });

  it('LABEL=FILE naming one interface other than any keeps it one; naming any, it is split in its place', async () => {
    const path = pcap('given.pcap', SLL2, [2, 3].map(sll2Packet));
    const given = (label: string): CaptureFileInput => ({
      path,
      label,
      host: null,
      text: `${label}=${path}`,
    });
    expect((await read(given('compute:eth0'))).ifaces.map((i) => i.label)).toEqual(['compute:eth0']);
    expect((await read(given('compute:qrouter-1/any'))).packets).toEqual([
      'compute:qrouter-1/any#if2',
      'compute:qrouter-1/any#if3',
    ]);
  });

  it('a packet too short to hold its ifindex goes to device 0; Ethernet and SLL v1 files are one interface', async () => {
    const short = await read(pcap('cut.pcap', SLL2, [sll2Packet(4), Buffer.from([8, 0, 0])]));
    expect(short.packets).toEqual(['cut#if4', 'cut#if0']);
    const cooked = await read(pcap('v1.pcap', 113, [Buffer.alloc(20), Buffer.alloc(20)]));
    expect(cooked.ifaces.map((i) => i.label)).toEqual(['v1']);
    expect(cooked.packets).toEqual(['v1', 'v1']);
  });

  it('a file naming more ifindexes than a stream may have interfaces: the rest go to the last device found', async () => {
    const ifindexes = Array.from({ length: MAX_DEVICES + 2 }, (_, i) => i + 1);
    const r = await read(pcap('hostile.pcap', SLL2, ifindexes.map(sll2Packet)));
    expect(r.ifaces).toHaveLength(MAX_DEVICES);
    expect(r.packets.slice(-3)).toEqual([
      `hostile#if${MAX_DEVICES}`,
      `hostile#if${MAX_DEVICES}`,
      `hostile#if${MAX_DEVICES}`,
    ]);
  });

  it('a recording names its devices: in the capture’s namespace and host, with their addresses', async () => {
    const path = join(dir, 'named.pcapng');
    const w = PcapngWriter.toFile(path);
    w.addInterface({
      id: 0,
      label: 'compute:qrouter-1/any',
      linktype: SLL2,
      snaplen: 262144,
      comments: [deviceComment({ ifindex: 2, name: 'qr-1', addresses: ['10.0.0.1/24'] })],
    });
    w.addInterface({ id: 1, label: 'compute:qrouter-1/qg-1', linktype: SLL2, snaplen: 262144 });
    for (const [iface, ifindex] of [
      [0, 2],
      [0, 9],
      [1, 9],
    ]) {
      const data = sll2Packet(ifindex);
      w.writePacket({
        interfaceId: iface,
        tsSec: SEC,
        tsNsec: 0,
        caplen: data.length,
        len: data.length,
        data,
        offset: 0,
        direction: 0,
      });
    }
    w.close();
    const r = await read(path);
    expect(r.ifaces.map((i) => [i.label, i.host, i.netns, i.name, i.addresses])).toEqual([
      // a named SLL2 device is itself
      ['compute:qrouter-1/qg-1', 'compute', 'qrouter-1', 'qg-1', []],
      ['compute:qrouter-1/qr-1', 'compute', 'qrouter-1', 'qr-1', ['10.0.0.1/24']],
      ['compute:qrouter-1/any#if9', 'compute', 'qrouter-1', 'any#if9', []],
    ]);
    expect(r.packets).toEqual([
      'compute:qrouter-1/qr-1',
      'compute:qrouter-1/any#if9',
      'compute:qrouter-1/qg-1',
    ]);
  });

  it('the capture’s statistics are every device’s: those before a device are given to it when it comes', async () => {
    const path = join(dir, 'stats.pcapng');
    const w = PcapngWriter.toFile(path, { now: () => ({ sec: SEC, nsec: 0 }) });
    w.addInterface({ id: 0, label: 'any', linktype: SLL2, snaplen: 262144 });
    const packet = (ifindex: number): void => writeSll2(w, ifindex);
    packet(2);
    w.writeStats({ interfaceId: 0, received: 10, dropped: 1, final: false });
    packet(3);
    w.close([{ interfaceId: 0, received: 20, dropped: 2, final: true }]);
    const r = await read(path);
    const byDevice = (label: string): number[] => {
      const id = r.ifaces.find((i) => i.label === label)?.id;
      return r.stats.filter((s) => s.interfaceId === id).map((s) => s.dropped);
    };
    expect(r.ifaces.map((i) => i.label)).toEqual(['any#if2', 'any#if3']);
    // the block read before if3's first packet, given to it then; the last one to both
    expect(byDevice('any#if2')).toEqual([1, 2, 2]);
    expect(byDevice('any#if3')).toEqual([1, 2, 2]);
  });

  it('a device a statistics block names before its first packet is named so (a live capture found it late)', async () => {
    const path = join(dir, 'late.pcapng');
    const w = PcapngWriter.toFile(path, { now: () => ({ sec: SEC, nsec: 0 }) });
    w.addInterface({ id: 0, label: 'qrouter-1/any', linktype: SLL2, snaplen: 262144 });
    const packet = (ifindex: number): void => writeSll2(w, ifindex);
    packet(2);
    // (what a live capture writes when it finds a device its listing did not name)
    w.writeStats(
      { interfaceId: 0, received: 1, dropped: 0, final: false },
      deviceComment({ ifindex: 3, name: 'tap-late', addresses: ['10.0.0.9/24'] }),
    );
    packet(3);
    packet(2);
    w.close();
    const r = await read(path);
    expect(r.ifaces.map((i) => [i.label, i.addresses])).toEqual([
      ['qrouter-1/any#if2', []],
      ['qrouter-1/tap-late', ['10.0.0.9/24']],
    ]);
    expect(r.packets).toEqual(['qrouter-1/any#if2', 'qrouter-1/tap-late', 'qrouter-1/any#if2']);
  });
});
