// Files named on the command line (`replay LABEL=FILE`, `HOST:=FILE`, docs/spec-grammar.md): the
// labels and hosts their interfaces get in the merge, and the files that cannot be
// named so — refused before anything is handed on, or where the file stops.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InterfaceLabelError,
  mergeCaptureFiles,
  type CaptureFileInput,
  type MergedInterface,
} from '../../src/framing/index.js';
import { PCAPNG_TWO_SECTIONS, pcapMicro, pcapngOneInterface } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-merge-named-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const S = 1_700_000_000_000_000_000n;
const us = (n: number): bigint => S + BigInt(n) * 1000n;

const tap = file('tap.pcap', pcapMicro([us(1), us(3)]));
const qr = file('qr.pcapng', pcapngOneInterface('compute:qrouter-x/qr-1', [us(2)]));
const multi = file('multi.pcapng', PCAPNG_TWO_SECTIONS);

function labelled(path: string, label: string): CaptureFileInput {
  return { path, label, host: null, text: `${label}=${path}` };
}
function onHost(path: string, host: string): CaptureFileInput {
  return { path, label: null, host, text: `${host}:=${path}` };
}

interface Merged {
  ifaces: Array<Pick<MergedInterface, 'label' | 'host' | 'netns' | 'name'>>;
  packets: number;
  warnings: string[];
  error: unknown;
}

async function merge(files: Array<string | CaptureFileInput>, chunkSize?: number): Promise<Merged> {
  const r: Merged = { ifaces: [], packets: 0, warnings: [], error: null };
  try {
    await mergeCaptureFiles(
      files,
      (i) => void r.ifaces.push({ label: i.label, host: i.host, netns: i.netns, name: i.name }),
      () => void r.packets++,
      { chunkSize, onWarning: (m) => void r.warnings.push(m) },
    );
  } catch (err) {
    r.error = err;
  }
  return r;
}

describe('files named on the command line', () => {
  it('LABEL=FILE names the one interface, in place of its file name or recorded name', async () => {
    const r = await merge([labelled(tap, 'compute:tap7aa08012-d0'), labelled(qr, 'network:qdhcp-1/ns-2')]);
    expect(r.error).toBeNull();
    expect(r.ifaces).toEqual([
      { label: 'compute:tap7aa08012-d0', host: 'compute', netns: null, name: 'tap7aa08012-d0' },
      { label: 'network:qdhcp-1/ns-2', host: 'network', netns: 'qdhcp-1', name: 'ns-2' },
    ]);
    expect(r.packets).toBe(3);
  });

  it('HOST:=FILE puts the host before the label each interface would have had', async () => {
    const r = await merge([onHost(tap, 'external'), onHost(multi, 'compute'), qr]);
    expect(r.error).toBeNull();
    expect(r.ifaces.map((i) => [i.label, i.host])).toEqual([
      ['external:tap', 'external'],
      ['compute:eth0', 'compute'],
      ['compute:multi#1', 'compute'],
      ['compute:multi#2', 'compute'],
      ['compute:tap0', 'compute'],
      ['compute:qrouter-x/qr-1', 'compute'],
    ]);
  });

  it('HOST:=FILE keeps a recorded host that is HOST, and refuses another before anything is handed on', async () => {
    expect((await merge([onHost(qr, 'compute')])).ifaces[0]).toEqual({
      label: 'compute:qrouter-x/qr-1',
      host: 'compute',
      netns: 'qrouter-x',
      name: 'qr-1',
    });
    const r = await merge([tap, onHost(qr, 'external')]);
    expect(r.error).toBeInstanceOf(InterfaceLabelError);
    expect((r.error as Error).message).toBe(
      `external:=${qr}: interface "compute:qrouter-x/qr-1" of the file was recorded on host compute, ` +
        `not external (a recorded host is not replaced): write ${qr} to keep the recorded hosts`,
    );
    // not even the first file's interface: a usage error comes alone
    expect(r.ifaces).toEqual([]);
    expect(r.packets).toBe(0);
  });

  it('LABEL=FILE of a file with several interfaces is refused, saying what to write', async () => {
    const r = await merge([tap, labelled(multi, 'compute:eth0')]);
    expect(r.error).toBeInstanceOf(InterfaceLabelError);
    expect((r.error as Error).message).toBe(
      `compute:eth0=${multi}: the file has 4 interfaces and a LABEL names one: write ${multi} ` +
        `to keep their own labels, or compute:=${multi} to put them all on that host`,
    );
    expect(r.ifaces).toEqual([]);
    const plain = await merge([labelled(multi, 'eth0')]);
    expect((plain.error as Error).message).toMatch(/or HOST:=.*multi\.pcapng to put them all on a host$/);
  });

  it('an interface in a later section of a LABEL=FILE file: refused where it comes, after the packets before it', async () => {
    const two = file(
      'two.pcapng',
      Buffer.concat([pcapngOneInterface(null, [us(1), us(2)]), pcapngOneInterface(null, [us(3)])]),
    );
    // read 64 bytes at a time, so the second section comes after the first packets are out;
    // alone or merged with another file (packets handed on as read, or queued)
    for (const files of [[labelled(two, 'compute:eth0')], [labelled(two, 'compute:eth0'), qr]]) {
      const r = await merge(files, 64);
      expect(r.ifaces[0].label).toBe('compute:eth0');
      expect(r.packets).toBe(2);
      expect(r.error).toBeInstanceOf(InterfaceLabelError);
      expect((r.error as Error).message).toMatch(/the file has 2 interfaces and a LABEL names one/);
    }
    // read at once, the file's interfaces are all known before its first packet
    const whole = await merge([labelled(two, 'compute:eth0')]);
    expect(whole.ifaces).toEqual([]);
    expect(whole.error).toBeInstanceOf(InterfaceLabelError);
  });

  it('a file name holding "=" is a plain file to the merge', async () => {
    const odd = file('a=b.pcap', pcapMicro([us(1)]));
    expect((await merge([odd])).ifaces.map((i) => i.label)).toEqual(['a=b']);
  });

  it('the same label from two files: a warning that says how to name them apart', async () => {
    const again = file('tap.pcapng', pcapngOneInterface('external:tap', [us(5)]));
    const r = await merge([onHost(tap, 'external'), again]);
    expect(r.warnings).toEqual([
      `interfaces 0 (${tap}) and 1 (${again}) are both labelled "external:tap": name them with LABEL=FILE or HOST:=FILE`,
    ]);
    // different hosts are different interfaces: no warning
    expect((await merge([onHost(tap, 'compute'), onHost(tap, 'external')])).warnings).toEqual([]);
  });
});
