// `hopscope replay LABEL=FILE HOST:=FILE` as an operator uses it (docs/spec-grammar.md, docs/verdicts.md "Clocks"):
// `tcpdump -w` on the compute node and on an external host, the two files replayed
// together, each named with the machine it came from, so that each is its own clock.
// The two files are cut from a shipped two-host recording with tshark (one interface
// each, pcap as tcpdump writes it), the external host's clock set 0.3 s ahead with editcap.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClockRecord } from '../../src/events/types.js';
import { PROJECT_ROOT, runCli, type CliResult } from '../support/run-cli.js';
import { NO_CAUSES_NOTE } from '../support/replay-notes.js';

const RECORDING = join(PROJECT_ROOT, 'captures/nova-flat-reply-drop-br100.pcapng');
let dir: string;
/** tshark's `-F pcap` writes microsecond stamps, as tcpdump -w does */
const RESOLUTION = 1000;

/** One interface of the recording, as `tcpdump -i IFACE -w FILE` on its machine would have written it. */
function cut(iface: string, file: string): void {
  execFileSync(
    'tshark',
    ['-r', RECORDING, '-Y', `frame.interface_name == "${iface}"`, '-F', 'pcap', '-w', join(dir, file)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-replay-hosts-'));
  cut('compute:tap7aa08012-d0', 'tap.pcap');
  cut('external:eth0', 'ext-own-clock.pcap');
  // the external host's clock 300 ms ahead of the compute node's
  execFileSync('editcap', ['-t', '0.3', join(dir, 'ext-own-clock.pcap'), join(dir, 'ext.pcap')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replay(args: string[]): CliResult {
  return runCli(['replay', ...args], { cwd: dir });
}

function records(stdout: string, type: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.type === type);
}

/** Each exchange's verdict, sorted: kind, key, status and where it was lost. */
function verdicts(stdout: string): string[] {
  return records(stdout, 'exchange')
    .map((e) => `${String(e.kind)} ${String(e.key)} ${String(e.status)} ${JSON.stringify(e.lost ?? null)}`)
    .sort();
}

/** The clock records; the last is the estimate at the end of the replay. */
function clocks(stdout: string): Array<{ host: string; reference: string; offsetMs: number }> {
  return records(stdout, 'clock') as unknown as Array<{ host: string; reference: string; offsetMs: number }>;
}

describe('replay of files from two machines', () => {
  /**
   * The recording's five interfaces, each as `tcpdump -i IFACE -w FILE` on its machine,
   * the external host's clock `aheadS` seconds ahead: LABEL=FILE arguments.
   */
  function perInterfaceFiles(aheadS: number): string[] {
    const ifaces = [
      'compute:instance-00000001/eth0',
      'compute:tap7aa08012-d0',
      'compute:br100',
      'compute:eth1',
      'external:eth0',
    ];
    return ifaces.map((label, i) => {
      const own = `all-${i}-own.pcap`;
      cut(label, own);
      if (!label.startsWith('external:')) return `${label}=${own}`;
      const skewed = `all-${i}-${aheadS}.pcap`;
      execFileSync('editcap', ['-t', String(aheadS), join(dir, own), join(dir, skewed)]);
      return `${label}=${skewed}`;
    });
  }

  it('every interface a tcpdump of its own, the external host 0.3 s ahead: the verdicts of the recording, the offset within its uncertainty', () => {
    const args = perInterfaceFiles(0.3);
    const recorded = runCli(['replay', RECORDING, '--json']);
    const split = replay([...args, '--json']);
    expect(split.stderr).toBe(NO_CAUSES_NOTE);
    expect(verdicts(split.stdout)).toEqual(verdicts(recorded.stdout));
    expect(verdicts(split.stdout).filter((v) => v.includes(' lost '))).toHaveLength(3);
    const external = (records(split.stdout, 'clock') as unknown as ClockRecord[])
      .filter((c) => c.host === 'external')
      .at(-1);
    expect(external?.reference).toBe('compute');
    expect(Math.abs((external?.offsetMs ?? 0) - 300)).toBeLessThanOrEqual(external?.uncertaintyMs ?? -1);
  });

  // Clocks further apart than an exchange's timeout: read merged by raw time stamps, the
  // external host's sightings came seconds away from the compute node's, and every
  // exchange was judged (split in two, or inconclusive) before its other half was read.
  it.each([4, -3])(
    'the external host %d s off, more than any timeout: the verdicts of the recording, from the first clock record on',
    (aheadS) => {
      const recorded = runCli(['replay', RECORDING, '--json']);
      const split = replay([...perInterfaceFiles(aheadS), '--json']);
      expect(split.stderr).toBe(NO_CAUSES_NOTE);
      expect(verdicts(split.stdout)).toEqual(verdicts(recorded.stdout));
      // known before the first exchange, from the packets both hosts saw, and right
      const external = (records(split.stdout, 'clock') as unknown as ClockRecord[]).filter(
        (c) => c.host === 'external',
      );
      const first = split.stdout.split('\n').findIndex((l) => l.includes('"type":"clock"'));
      const firstExchange = split.stdout.split('\n').findIndex((l) => l.includes('"type":"exchange"'));
      expect(first).toBeLessThan(firstExchange);
      expect(external[0].samples).toBe(0);
      for (const c of external) {
        expect(c.reference).toBe('compute');
        expect(Math.abs(c.offsetMs - aheadS * 1000)).toBeLessThanOrEqual(c.uncertaintyMs);
      }
    },
  );

  it('LABEL=FILE: each interface on its host, and the host 0.3 s ahead measured so', () => {
    const r = replay(['compute:tap7aa08012-d0=tap.pcap', 'external:eth0=ext.pcap', '--json']);
    expect(r.stderr).toBe(NO_CAUSES_NOTE);
    expect(records(r.stdout, 'interface')).toEqual([
      {
        type: 'interface',
        id: 0,
        label: 'compute:tap7aa08012-d0',
        host: 'compute',
        netns: null,
        name: 'tap7aa08012-d0',
        linktype: 'EN10MB',
        tsResolutionNs: RESOLUTION,
        // (a pcap file has no room for them)
        addresses: [],
        file: 'tap.pcap',
      },
      {
        type: 'interface',
        id: 1,
        label: 'external:eth0',
        host: 'external',
        netns: null,
        name: 'eth0',
        linktype: 'EN10MB',
        tsResolutionNs: RESOLUTION,
        // (a pcap file has no room for them)
        addresses: [],
        file: 'ext.pcap',
      },
    ]);
    expect(records(r.stdout, 'stats').map((s) => s.iface)).toEqual([
      'compute:tap7aa08012-d0',
      'external:eth0',
    ]);
    const clock = clocks(r.stdout);
    expect(clock.length).toBeGreaterThan(0);
    for (const c of clock) expect([c.host, c.reference]).toEqual(['external', 'compute']);
    expect(Math.abs((clock.at(-1)?.offsetMs ?? 0) - 300)).toBeLessThanOrEqual(1);
    // the echo replies towards the VM, dropped on the compute node (the recording's fault)
    const lost = records(r.stdout, 'exchange').filter((x) => x.status === 'lost');
    expect(lost.map((x) => x.lost)).toEqual(
      Array(3).fill({ stage: 'reply', lastSeen: 'external:eth0', missingOn: ['compute:tap7aa08012-d0'] }),
    );
    expect(r.status).toBe(1);
  });

  it('HOST:=FILE keeps the file-derived name behind the host; decoded on this thread too (--packets)', () => {
    const r = replay(['compute:tap7aa08012-d0=tap.pcap', 'external:=ext.pcap', '--packets', '--json']);
    expect(r.stderr).toBe(NO_CAUSES_NOTE);
    expect(records(r.stdout, 'interface').map((i) => [i.label, i.host, i.name])).toEqual([
      ['compute:tap7aa08012-d0', 'compute', 'tap7aa08012-d0'],
      ['external:ext', 'external', 'ext'],
    ]);
    const packets = records(r.stdout, 'packet');
    expect(packets).toHaveLength(45);
    expect(new Set(packets.map((p) => p.iface))).toEqual(new Set(['compute:tap7aa08012-d0', 'external:ext']));
    const clock = clocks(r.stdout);
    expect(clock.length).toBeGreaterThan(0);
    for (const c of clock) expect([c.host, c.reference]).toEqual(['external', 'compute']);
    expect(Math.abs((clock.at(-1)?.offsetMs ?? 0) - 300)).toBeLessThanOrEqual(1);
  });

  it('forms that name nothing are one-line usage errors that say what to write', () => {
    const bare = replay(['tap.pcap', '=ext.pcap', '--json']);
    expect([bare.status, bare.stdout]).toEqual([2, '']);
    expect(bare.stderr).toBe(
      `hopscope: replay: "=ext.pcap": no label before '=': write LABEL=FILE (compute:eth0=ext.pcap), ` +
        `HOST:=FILE (compute:=ext.pcap), or ./=ext.pcap for a file of that name\n`,
    );
    const glob = replay(['compute:tap*=tap.pcap']);
    expect([glob.status, glob.stdout]).toEqual([2, '']);
    expect(glob.stderr).toMatch(
      /^hopscope: replay: label "compute:tap\*": a label names one interface[^\n]*\n$/,
    );
  });

  it('a LABEL for a file of several interfaces, or HOST:= against a recorded host: refused before any output', () => {
    copyFileSync(RECORDING, join(dir, 'nova.pcapng'));
    // on the decoder thread (--json) and on this one (--packets)
    for (const mode of [['--json'], ['--packets']]) {
      const label = replay(['tap.pcap', 'compute:eth0=nova.pcapng', ...mode]);
      expect([label.status, label.stdout]).toEqual([2, '']);
      expect(label.stderr).toBe(
        'hopscope: replay: compute:eth0=nova.pcapng: the file has 5 interfaces and a LABEL names one: ' +
          'write nova.pcapng to keep their own labels, or compute:=nova.pcapng to put them all on that host\n',
      );
      const host = replay(['external:=nova.pcapng', ...mode]);
      expect([host.status, host.stdout]).toEqual([2, '']);
      expect(host.stderr).toBe(
        'hopscope: replay: external:=nova.pcapng: interface "compute:instance-00000001/eth0" of the file was ' +
          'recorded on host compute, not external (a recorded host is not replaced): write nova.pcapng to keep ' +
          'the recorded hosts\n',
      );
    }
    // one of its hosts is not enough: the other is refused the same way
    const one = replay(['compute:=nova.pcapng', '--json']);
    expect([one.status, one.stdout]).toEqual([2, '']);
    expect(one.stderr).toMatch(/"external:eth0" of the file was recorded on host external, not compute/);
  });

  it("a file whose name holds '=' is replayed as ./NAME; without ./ the error says so", () => {
    copyFileSync(join(dir, 'tap.pcap'), join(dir, 'vm=1.pcap'));
    const wrong = replay(['vm=1.pcap']);
    expect([wrong.status, wrong.stdout]).toEqual([2, '']);
    expect(wrong.stderr).toBe(
      'hopscope: replay: 1.pcap: cannot open: no such file (ENOENT) (for the file vm=1.pcap write ./vm=1.pcap)\n',
    );
    const right = replay(['./vm=1.pcap', '--json']);
    expect(records(right.stdout, 'interface').map((i) => [i.label, i.host])).toEqual([['vm=1', null]]);
  });

  it('the same label from two machines: a warning that says how to tell them apart', () => {
    for (const d of ['compute', 'external']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(join(dir, 'tap.pcap'), join(dir, 'compute/eth0.pcap'));
    copyFileSync(join(dir, 'ext.pcap'), join(dir, 'external/eth0.pcap'));
    const r = replay(['compute/eth0.pcap', 'external/eth0.pcap', '--json']);
    expect(r.stderr).toBe(
      'hopscope: warning: interfaces 0 (compute/eth0.pcap) and 1 (external/eth0.pcap) are both labelled "eth0": ' +
        'name them with LABEL=FILE or HOST:=FILE\n' +
        NO_CAUSES_NOTE,
    );
    const named = replay(['compute:=compute/eth0.pcap', 'external:=external/eth0.pcap', '--json']);
    expect(named.stderr).toBe(NO_CAUSES_NOTE);
    expect(records(named.stdout, 'interface').map((i) => i.label)).toEqual(['compute:eth0', 'external:eth0']);
  });
});
