// A capture of every device of a host (`-i NS/any`, and `tcpdump -i any -w` replayed):
// on nova-flat with the echo reply dropped on br100, the reply must be lost between two
// devices of the one capture — last seen on br100, never on the tap — where a single
// "any" interface would have seen request and reply and called the ping ok.
// (docs/spec-grammar.md "Captures of every device")
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, type LabView } from '../../src/lab/index.js';
import {
  downAllLabs,
  inNetns,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { stopTcpdump, tcpdumpToFile } from '../lab/support/tcpdump.js';
import { exchangesOf, jsonRecords, startCli } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';
import { tsharkRows } from '../support/tshark-fields.js';

const TAP = 'tap7aa08012-d0';

describe('a capture of every device, on nova-flat with the echo reply dropped on br100', () => {
  const PREFIX = runPrefix('any');
  let lab: LabView;
  let work: string;
  let compute: string;
  /** the compute namespace's devices by ifindex */
  const names = new Map<number, string>();

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-any-'));
    lab = await labUp('nova-flat', { fault: 'reply-drop-br100', prefix: PREFIX });
    compute = `${lab.prefix}compute`;
    const links = JSON.parse(
      execFileSync('ip', ['-n', compute, '-j', 'link', 'show'], { encoding: 'utf8' }),
    ) as Array<{ ifindex: number; ifname: string }>;
    for (const l of links) names.set(l.ifindex, l.ifname);
  }, 180_000);

  afterAll(async () => {
    await downAllLabs(PREFIX);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('live and from tcpdump’s file: the reply is last seen on br100 and never reaches the tap', async () => {
    const recording = join(work, 'any.pcapng');
    const tcpdumpFile = join(work, 'compute-any.pcap');
    const tcpdump = await tcpdumpToFile(compute, 'any', tcpdumpFile, ['icmp']);
    // (the external host's eth0 is announced at once, the devices at their first packets:
    // announcement order is not path order, and the bridged hops' stamps tie)
    const cli = startCli([
      'capture',
      '-i',
      `${lab.prefix}external/eth0`,
      '-i',
      `${compute}/any`,
      '-f',
      'icmp',
      '-w',
      recording,
      '--json',
    ]);
    try {
      await cli.waitForLine(
        () => jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length === 2,
      );
      const ping = await inNetns(`${lab.prefix}instance-00000001`, [
        'ping',
        '-c',
        '3',
        '-i',
        '1.5',
        '-W',
        '1',
        '203.0.113.10',
      ]);
      expect(ping.exitCode).not.toBe(0);
      // (a file without statistics ends at its last packet: the pings after the first
      // let its echo's timeout pass within tcpdump's file)
      await cli.waitForLine(() => exchangesOf(cli.lines, 'icmp-echo').length > 0, 30_000);
    } finally {
      cli.child.kill('SIGINT');
      await stopTcpdump(tcpdump);
    }
    expect(await cli.exited, cli.stderr()).toBe(1);

    // Live: the devices are interfaces of their own, named as in the namespace.
    const [live] = exchangesOf(cli.lines, 'icmp-echo');
    expect(live.status).toBe('lost');
    expect(live.lost?.stage).toBe('reply');
    expect(live.lost?.lastSeen).toBe(`${compute}/br100`);
    expect(live.lost?.missingOn).toContain(`${compute}/${TAP}`);
    expect(live.stages[0].seen.map((s) => s.iface)).toEqual([
      `${compute}/${TAP}`,
      `${compute}/br100`,
      `${compute}/eth1`,
      `${lab.prefix}external/eth0`,
    ]);
    const announced = jsonRecords(cli.lines)
      .filter((r) => r.type === 'interface')
      .map((r) => r.label as string);
    expect(announced).not.toContain(`${compute}/any`);
    expect(announced).toEqual(
      expect.arrayContaining([`${compute}/${TAP}`, `${compute}/br100`, `${compute}/eth1`]),
    );
    // the capture's own lifecycle keeps its name: what was asked for
    expect(jsonRecords(cli.lines).some((r) => r.type === 'stats' && r.iface === `${compute}/any`)).toBe(true);

    // The recording is the capture as tcpdump writes it: one LINUX_SLL2 interface, each
    // packet's ifindex in its header; private; the lost packets carry the verdict.
    expect(statSync(recording).mode & 0o777).toBe(0o600);
    const rows = tsharkRows(recording, ['frame.interface_name', 'sll.ifindex', 'frame.comment']);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set([`${compute}/any`, `${lab.prefix}external/eth0`]));
    expect([...new Set(rows.map((r) => names.get(Number(r[1]))))]).toEqual(
      expect.arrayContaining([TAP, 'br100', 'eth1']),
    );
    expect(rows.filter((r) => r[2].includes('LOST reply, last seen on')).length).toBeGreaterThan(0);

    // Its replay judges as the capture did, with the devices' names.
    const replayed = exchangesOf(runCli(['replay', recording, '--json']).stdout.split('\n'), 'icmp-echo');
    expect(replayed.map((e) => [e.status, e.lost])).toEqual(
      exchangesOf(cli.lines, 'icmp-echo').map((e) => [e.status, e.lost]),
    );

    // tcpdump's file knows only the ifindex: the devices are <file>#if<ifindex>.
    const r = runCli(['replay', tcpdumpFile, '--json']);
    expect(r.status, r.stderr).toBe(1);
    const [fromTcpdump] = exchangesOf(r.stdout.split('\n'), 'icmp-echo');
    const named = (label: string): string | undefined =>
      names.get(Number(/^compute-any#if(\d+)$/.exec(label)?.[1] ?? NaN));
    expect(fromTcpdump.status).toBe('lost');
    expect(named(fromTcpdump.lost?.lastSeen ?? '')).toBe('br100');
    expect(fromTcpdump.lost?.missingOn.map(named)).toContain(TAP);
    expect(fromTcpdump.stages[0].seen.map((s) => named(s.iface))[0]).toBe(TAP);
  }, 120_000);
});

describe('a capture of every device of namespaces and devices made after it began', () => {
  const P = runPrefix('late');
  let work: string;

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-late-'));
    // the router's namespace is there at the start, with nothing in it but lo
    expect((await run(['ip', 'netns', 'add', `${P}r`])).exitCode).toBe(0);
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('names the devices as their namespace does, finds the reply lost inside the router, and records the names', async () => {
    const [r, c, s] = [`${P}r`, `${P}c`, `${P}s`];
    const recording = join(work, 'late.pcapng');
    const cli = startCli(['capture', '-i', `${P}*/any`, '-f', 'icmp', '-w', recording, '--json']);
    const up = (label: string) => () =>
      jsonRecords(cli.lines).some((x) => x.type === 'state' && x.iface === label && x.state === 'up');
    try {
      await cli.waitForLine(up(`${r}/any`));
      // A client and a server namespace, made now: their `any` is attached as they appear.
      await runAll(['ip', 'netns', 'add', c], ['ip', 'netns', 'add', s]);
      await cli.waitForLine(up(`${c}/any`), 10_000);
      await cli.waitForLine(up(`${s}/any`), 10_000);
      // Then their devices and the router's, none of which any listing has seen.
      await runAll(
        ['ip', '-n', r, 'link', 'add', 'rc', 'type', 'veth', 'peer', 'name', 'cr', 'netns', c],
        ['ip', '-n', r, 'link', 'add', 'rs', 'type', 'veth', 'peer', 'name', 'sr', 'netns', s],
        ['ip', '-n', r, 'addr', 'add', '10.91.1.1/24', 'dev', 'rc'],
        ['ip', '-n', r, 'addr', 'add', '10.91.2.1/24', 'dev', 'rs'],
        ['ip', '-n', c, 'addr', 'add', '10.91.1.2/24', 'dev', 'cr'],
        ['ip', '-n', s, 'addr', 'add', '10.91.2.2/24', 'dev', 'sr'],
        ['ip', '-n', r, 'link', 'set', 'rc', 'up'],
        ['ip', '-n', r, 'link', 'set', 'rs', 'up'],
        ['ip', '-n', c, 'link', 'set', 'cr', 'up'],
        ['ip', '-n', s, 'link', 'set', 'sr', 'up'],
        ['ip', '-n', c, 'route', 'add', 'default', 'via', '10.91.1.1'],
        ['ip', '-n', s, 'route', 'add', 'default', 'via', '10.91.2.1'],
        ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
        [
          'ip',
          'netns',
          'exec',
          r,
          'nft',
          'add table inet t; add chain inet t f { type filter hook forward priority 0; }; add rule inet t f icmp type echo-reply drop',
        ],
      );
      const ping = await inNetns(c, ['ping', '-c', '2', '-i', '0.5', '-W', '1', '10.91.2.2']);
      expect(ping.exitCode).not.toBe(0);
      await cli.waitForLine(() => exchangesOf(cli.lines, 'icmp-echo').length >= 2, 30_000);
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited, cli.stderr()).toBe(1);

    // Each device is announced by its name and addresses, none as `any#if<N>`.
    const announced = new Map(
      jsonRecords(cli.lines)
        .filter((x) => x.type === 'interface')
        .map((x) => [x.label as string, x.addresses as string[]]),
    );
    expect([...announced.keys()].filter((l) => l.includes('#if'))).toEqual([]);
    expect(announced.get(`${r}/rc`)).toContain('10.91.1.1/24');
    expect(announced.get(`${r}/rs`)).toContain('10.91.2.1/24');
    expect(announced.get(`${c}/cr`)).toContain('10.91.1.2/24');
    // The reply came into the router and never left it.
    const judged = exchangesOf(cli.lines, 'icmp-echo');
    for (const e of judged) {
      expect(e.status).toBe('lost');
      expect(e.stages[0].seen.map((x) => x.iface)).toEqual([`${c}/cr`, `${r}/rc`, `${r}/rs`, `${s}/sr`]);
      expect(e.lost?.stage).toBe('reply');
      expect(e.lost?.lastSeen).toBe(`${r}/rs`);
      expect(e.lost?.missingOn).toEqual(expect.arrayContaining([`${r}/rc`, `${c}/cr`]));
    }

    // The recording names the devices found late (a statistics block before their first
    // packet), so its replay judges with the same names.
    const replayed = exchangesOf(runCli(['replay', recording, '--json']).stdout.split('\n'), 'icmp-echo');
    expect(replayed.map((e) => [e.key, e.status, e.lost, e.stages[0].seen.map((x) => x.iface)])).toEqual(
      judged.map((e) => [e.key, e.status, e.lost, e.stages[0].seen.map((x) => x.iface)]),
    );
    // …and its annotation pass found them by those names too
    const rows = tsharkRows(recording, ['frame.interface_name', 'frame.comment']);
    expect(
      rows.filter((x) => x[0] === `${r}/any` && x[1].includes('LOST reply, last seen on')).length,
    ).toBeGreaterThan(0);
  }, 90_000);
});
