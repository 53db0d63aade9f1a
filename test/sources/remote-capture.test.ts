// Remote capture over real ssh, against the lab's sdn-vxlan hosts (each a
// namespace running its own sshd): packets equal to an independent local
// tcpdump to the nanosecond, filters, a killed ssh or sshd survived, clean
// stop with tcpdump's counts, and one-line errors — also for hostile names,
// which must reach tcpdump as data and never run anything.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  FramedPacket,
  InterfaceDescriptor,
  InterfaceState,
  InterfaceStats,
} from '../../src/events/types.js';
import { readCaptureBytes } from '../../src/framing/index.js';
import { labUp, runTraffic, type LabView } from '../../src/lab/index.js';
import {
  RemoteCapture,
  RemoteCaptureError,
  type RemoteCaptureOptions,
} from '../../src/sources/remote-capture.js';
import { downAllLabs, namespacesStartingWith, requireRoot, run, runPrefix } from '../lab/support/lab-env.js';
import { stopTcpdump, tcpdumpToFile } from '../lab/support/tcpdump.js';

const RUN = runPrefix('rc');
/** Every capture of this file uses this snaplen, so its remote tcpdumps can be found in /proc. */
const SNAP = 60_000 + (process.pid % 2000);
const POD1 = 'cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d';
const POD2 = 'cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let lab: LabView;
let work: string;
const open: RemoteCapture[] = [];

const ns = (name: string): string => `${lab.prefix}${name}`;
const sshHost = (name: string): string => {
  const host = lab.hosts.find((h) => h.name === name);
  if (host === undefined) throw new Error(`lab has no host ${name}`);
  return host.sshName;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One packet as a comparable line: kernel time stamp to the ns, lengths, a hash of the bytes. */
function packetLine(p: FramedPacket): string {
  const hash = createHash('sha1')
    .update(p.data.subarray(p.offset, p.offset + p.caplen))
    .digest('hex')
    .slice(0, 16);
  return `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')} len=${p.len} caplen=${p.caplen} ${hash}`;
}

interface Recorded {
  capture: RemoteCapture;
  packets: string[];
  /** IP protocol numbers of the packets (EN10MB + IPv4), -1 otherwise */
  protocols: number[];
  ids: Set<number>;
  interfaces: InterfaceDescriptor[];
  states: [InterfaceState, string | null][];
  stats: InterfaceStats[];
  warnings: string[];
}

function record(options: Partial<RemoteCaptureOptions> & { host: string; iface: string }): Recorded {
  const r: Omit<Recorded, 'capture'> = {
    packets: [],
    protocols: [],
    ids: new Set(),
    interfaces: [],
    states: [],
    stats: [],
    warnings: [],
  };
  const capture = new RemoteCapture(
    {
      netns: null,
      sshConfig: lab.sshConfigPath,
      snaplen: SNAP,
      interfaceId: 3,
      backoff: { initialMs: 200, maxMs: 1000 },
      ...options,
    },
    {
      onInterface: (iface) => r.interfaces.push(iface),
      onPacket: (p) => {
        r.packets.push(packetLine(p));
        r.ids.add(p.interfaceId);
        const d = p.data;
        const o = p.offset;
        r.protocols.push(p.caplen >= 34 && d[o + 12] === 0x08 && d[o + 13] === 0x00 ? d[o + 23] : -1);
      },
      onState: (state, reason) => r.states.push([state, reason]),
      onStats: (s) => r.stats.push(s),
      onWarning: (w) => r.warnings.push(w),
    },
  );
  open.push(capture);
  return { capture, ...r };
}

/** An independent witness: tcpdump in the namespace itself, writing a nanosecond pcap file. */
async function witness(netns: string, iface: string, filter: string): Promise<{ stop(): Promise<string[]> }> {
  const file = join(work, `${netns}-${iface}-${randomBytes(3).toString('hex')}.pcap`);
  const child = await tcpdumpToFile(netns, iface, file, [filter]);
  return {
    async stop(): Promise<string[]> {
      await stopTcpdump(child);
      const lines: string[] = [];
      readCaptureBytes(readFileSync(file), {
        onInterface: () => {},
        onPacket: (p) => lines.push(packetLine(p)),
      });
      return lines;
    },
  };
}

/** pids of this file's tcpdumps (anywhere: lab hosts share this machine's pid namespace). */
function ourTcpdumps(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = argv.indexOf('-s');
    if (argv[0]?.endsWith('tcpdump') && i >= 0 && argv[i + 1] === String(SNAP)) pids.push(Number(entry));
  }
  return pids;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function commOf(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

async function waitFor(
  what: string,
  check: () => boolean,
  timeoutMs = 15_000,
  detail?: () => string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${detail !== undefined ? `\n${detail()}` : ''}`);
    await sleep(50);
  }
}

/** For a failure message: the ssh, sshd, nc, sh and tcpdump processes, as a tree. */
function processTree(): string {
  const ps = execFileSync('ps', ['-eo', 'pid,ppid,args', '--forest']).toString().split('\n');
  return [
    `our tcpdumps: ${ourTcpdumps().join(' ')}`,
    ...ps.filter((l) => /ssh|tcpdump|sh -c|nc /.test(l)),
  ].join('\n');
}

/**
 * An ssh config with two broken hosts: node9 is reached through a namespace that
 * does not exist, node8 through a proxy that never answers.
 */
function brokenConfig(): string {
  const file = join(work, 'broken_ssh_config');
  const identity = join(lab.stateDir, 'id_ed25519');
  const host = (name: string, proxy: string): string[] => [
    `Host ${name}`,
    '  HostName 127.0.0.1',
    '  User root',
    `  IdentityFile ${identity}`,
    '  BatchMode yes',
    '  StrictHostKeyChecking no',
    '  UserKnownHostsFile /dev/null',
    `  ProxyCommand ${proxy}`,
    '',
  ];
  writeFileSync(
    file,
    [...host('node9', `ip netns exec ${RUN}node9 nc 127.0.0.1 22`), ...host('node8', 'sleep 30')].join('\n'),
  );
  return file;
}

async function startFails(options: Partial<RemoteCaptureOptions> & { host: string; iface: string }): Promise<{
  error: RemoteCaptureError;
  ms: number;
  rec: Recorded;
}> {
  const rec = record(options);
  const t0 = Date.now();
  const error = await rec.capture.start().then(
    () => {
      throw new Error(`start() on ${rec.capture.label} succeeded`);
    },
    (err: unknown) => err,
  );
  if (!(error instanceof RemoteCaptureError)) throw error;
  return { error, ms: Date.now() - t0, rec };
}

describe('remote capture over ssh (lab sdn-vxlan)', () => {
  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-rc-'));
    lab = await labUp('sdn-vxlan', { prefix: RUN });
    // A lab just built may lose its first pings (neighbours, bridge ports settling): wait
    // until the overlay answers, so every test below starts from a working network.
    for (let i = 0; ; i++) {
      const [warm] = await runTraffic(lab, { only: ['ping-pod'] });
      if (warm.succeeded) break;
      if (i === 10) throw new Error(`the lab's pod-to-pod ping never succeeded: ${warm.stdout}`);
    }
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.stop()));
    await downAllLabs(RUN);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    expect(namespacesStartingWith(RUN)).toEqual([]);
    expect(ourTcpdumps()).toEqual([]);
  });

  it('captures what a local tcpdump sees, packet for packet and nanosecond for nanosecond; stop() brings the counts', async () => {
    const filter = 'icmp or tcp';
    // node1's overlay device, in the host's own namespace; node2's pod, entered with `ip netns exec` on node2.
    const local = await Promise.all([
      witness(ns('node1'), 'vxlan_sys_4789', filter),
      witness(ns(POD2), 'eth0', filter),
    ]);
    const remote = [
      record({ host: sshHost('node1'), iface: 'vxlan_sys_4789', filter, interfaceId: 5 }),
      record({ host: sshHost('node2'), netns: ns(POD2), iface: 'eth0', filter, interfaceId: 6 }),
    ];
    await Promise.all(remote.map((r) => r.capture.start()));
    expect(remote.map((r) => r.capture.state)).toEqual(['up', 'up']);
    const traffic = await runTraffic(lab);
    expect(traffic.map((t) => [t.name, t.succeeded])).toEqual([
      ['ping-pod', true],
      ['ping-pod-large-df', true],
      ['http-pod', true],
    ]);
    await sleep(300);
    const finals = await Promise.all(remote.map((r) => r.capture.stop()));
    const witnessed = await Promise.all(local.map((w) => w.stop()));

    for (const [i, r] of remote.entries()) {
      // 3 + 3 pings each way, and a TCP handshake and close.
      expect(r.packets.length).toBeGreaterThanOrEqual(12 + 5);
      expect(r.packets).toEqual(witnessed[i]);
      expect([...r.ids]).toEqual([r.capture.interfaceId]);
      expect(r.interfaces).toEqual([
        {
          host: r.capture.host,
          netns: r.capture.netns,
          name: r.capture.iface,
          id: r.capture.interfaceId,
          label: r.capture.label,
          linktype: 1,
          snaplen: SNAP,
          // tcpdump asked for nanosecond stamps, and its stream says it gives them
          tsResolutionNs: 1,
          // (none given: a capture session gives those the host's listing showed)
          addresses: [],
          mac: null,
        },
      ]);
      // (a µs stream's stamps would all end in 000)
      expect(r.packets.filter((line) => !/^\d+\.\d{6}000 /.test(line)).length).toBeGreaterThan(0);
      expect(r.states).toEqual([
        ['up', null],
        ['stopped', null],
      ]);
      // tcpdump's report: every packet it captured arrived, none dropped.
      expect(finals[i]).toEqual({
        interfaceId: r.capture.interfaceId,
        received: r.packets.length,
        dropped: 0,
        final: true,
      });
      expect(r.stats).toEqual([finals[i]]);
      expect(r.warnings).toEqual([]);
    }
    expect(remote[1].capture.label).toBe(`${sshHost('node2')}:${ns(POD2)}/eth0`);
    expect(ourTcpdumps()).toEqual([]);
  });

  it('applies the filter in the remote kernel: with `icmp`, no TCP arrives', async () => {
    const icmp = record({ host: sshHost('node1'), iface: 'vxlan_sys_4789', filter: 'icmp' });
    // (and immediate mode: no ring-block buffering, no flush wait at stop)
    const tcp = record({
      host: sshHost('node1'),
      iface: 'vxlan_sys_4789',
      filter: 'tcp port 8080',
      immediate: true,
    });
    await Promise.all([icmp.capture.start(), tcp.capture.start()]);
    await runTraffic(lab);
    await sleep(300);
    await Promise.all([icmp.capture.stop(), tcp.capture.stop()]);
    expect(icmp.packets).toHaveLength(12);
    expect(new Set(icmp.protocols)).toEqual(new Set([1]));
    expect(tcp.packets.length).toBeGreaterThanOrEqual(5);
    expect(new Set(tcp.protocols)).toEqual(new Set([6]));
  });

  it('a tcpdump without nanosecond stamps: microseconds, told by the stream, in one session where it knows --version', async () => {
    // Stand-ins for older tcpdumps on the host (the lab's hosts share this file system):
    // each notes its arguments, then runs the real tcpdump — or refuses as an old one does.
    const tcpdump = (name: string, body: string): { path: string; calls(): string[] } => {
      const path = join(work, name);
      const log = `${path}.log`;
      writeFileSync(path, `#!/bin/sh\necho "$*" >> '${log}'\n${body}\nexec tcpdump "$@"\n`, { mode: 0o755 });
      return {
        path,
        calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(0, -1) : []),
      };
    };
    const refuse = (what: string): string =>
      `for a; do case $a in ${what}) echo "tcpdump: unrecognized option '$a'" >&2; exit 1;; esac; done`;
    // knows --version, not the option (a tcpdump built against libpcap < 1.5)
    const noNano = tcpdump('tcpdump-no-nano', refuse('--time-stamp-precision*'));
    // takes the option and still writes microseconds: what was asked is not what counts
    const ignores = tcpdump(
      'tcpdump-ignores',
      'for a; do shift; case $a in --time-stamp-precision*) ;; *) set -- "$@" "$a";; esac; done',
    );
    // knows neither: the option is tried, refused, and the next session goes without it
    const old = tcpdump('tcpdump-old', refuse('--time-stamp-precision*|--version'));
    const filter = 'icmp';
    const witnessed = await witness(ns('node1'), 'vxlan_sys_4789', filter);
    const rs = [noNano, ignores, old].map((t, i) =>
      record({
        host: sshHost('node1'),
        iface: 'vxlan_sys_4789',
        filter,
        tcpdumpPath: t.path,
        interfaceId: 20 + i,
      }),
    );
    await Promise.all(rs.map((r) => r.capture.start()));
    const [ping] = await runTraffic(lab, { only: ['ping-pod'] });
    expect(ping.succeeded, ping.stdout).toBe(true);
    await sleep(300);
    await Promise.all(rs.map((r) => r.capture.stop()));
    // The witness's nanosecond stamps, cut to microseconds.
    const inMicroseconds = (await witnessed.stop()).map((line) =>
      line.replace(/^(\d+\.\d{6})\d{3}/, '$1000'),
    );

    const capture = `-i vxlan_sys_4789 -U -w - -s ${SNAP}`;
    for (const r of rs) {
      expect(r.interfaces.map((i) => i.tsResolutionNs)).toEqual([1000]);
      expect(r.packets.length).toBeGreaterThanOrEqual(6);
      expect(r.packets).toEqual(inMicroseconds);
      expect(r.states).toEqual([
        ['up', null],
        ['stopped', null],
      ]);
    }
    // Found out on the host, in the session itself: the capture ran once, without the option.
    expect(noNano.calls()).toEqual([
      '--time-stamp-precision=nano --version',
      '--version',
      `${capture} -n -- icmp`,
    ]);
    expect(rs[0].warnings).toEqual([]);
    expect(ignores.calls()).toEqual([
      '--time-stamp-precision=nano --version',
      `${capture} --time-stamp-precision=nano -n -- icmp`,
    ]);
    expect(rs[1].warnings).toEqual([]);
    // An old tcpdump costs one more session, once.
    expect(old.calls()).toEqual([
      '--time-stamp-precision=nano --version',
      '--version',
      `${capture} --time-stamp-precision=nano -n -- icmp`,
      `${capture} -n -- icmp`,
    ]);
    expect(rs[2].warnings).toEqual([
      `${rs[2].capture.label}: tcpdump: unrecognized option '--time-stamp-precision=nano' on ${sshHost('node1')}; capturing with microsecond time stamps`,
    ]);
  });

  it('a killed ssh, then a killed sshd session: `retrying`, then `up` again, packets go on, no tcpdump left behind', async () => {
    const r = record({ host: sshHost('node1'), iface: 'vxlan_sys_4789', filter: 'icmp', interfaceId: 9 });
    await r.capture.start();
    const ping = async (): Promise<void> => {
      const [result] = await runTraffic(lab, { only: ['ping-pod'] });
      expect(result.succeeded, result.stdout).toBe(true);
    };
    await ping();
    await waitFor('the first pings', () => r.packets.length >= 6, 5000);
    const first = r.packets.length;

    // 1. The local ssh dies.
    const sshPid = r.capture.sshPid;
    expect(sshPid).not.toBeNull();
    process.kill(sshPid as number, 'SIGKILL');
    await waitFor('up again after ssh was killed', () => r.states.filter(([s]) => s === 'up').length === 2);
    expect(r.states[1][0]).toBe('retrying');
    expect(r.states[1][1]).toBe(`ssh to ${sshHost('node1')} failed: ssh killed by SIGKILL`);
    // The old session's tcpdump was stopped by the remote script when its stdin closed
    // (its ssh's ProxyCommand, the lab's nc, was stopped with the rest of ssh's process group).
    await waitFor('one remote tcpdump', () => ourTcpdumps().length === 1, 8000, processTree);
    await ping();
    await waitFor('pings after the restart', () => r.packets.length >= first + 6, 5000);
    const second = r.packets.length;

    // 2. The host's sshd process serving the session dies (tcpdump ← sh script ← sshd).
    const [tcpdump] = ourTcpdumps();
    const script = parentOf(tcpdump);
    const sshd = parentOf(script);
    expect(commOf(script)).toBe('sh');
    expect(commOf(sshd)).toBe('sshd');
    process.kill(sshd, 'SIGKILL');
    await waitFor('up again after sshd was killed', () => r.states.filter(([s]) => s === 'up').length === 3);
    expect(r.states[3][0]).toBe('retrying');
    // ssh's words vary with timing: "Connection … closed by remote host", "client_loop: … Broken pipe".
    expect(r.states[3][1]).toMatch(new RegExp(`^ssh to ${sshHost('node1')} failed: \\S`));
    await waitFor(
      'one remote tcpdump',
      () => ourTcpdumps().length === 1 && ourTcpdumps()[0] !== tcpdump,
      8000,
      processTree,
    );
    await ping();
    await waitFor('pings after the second restart', () => r.packets.length >= second + 6, 5000);

    const final = await r.capture.stop();
    expect([...r.ids]).toEqual([9]);
    expect(r.states.map(([s]) => s)).toEqual(['up', 'retrying', 'up', 'retrying', 'up', 'stopped']);
    expect(r.interfaces).toHaveLength(1);
    // Counts from tcpdump for the last session, arrivals for the two lost ones.
    expect(final.received).toBe(r.packets.length);
    expect(final.final).toBe(true);
    expect(ourTcpdumps()).toEqual([]);
  });

  it('an interface that goes away is `gone` until it comes back, then `up` again (a tap and its VM)', async () => {
    const node1 = ns('node1');
    const tap = 'tap7aa08012-d0';
    const create = async (): Promise<void> => {
      await run(['ip', '-n', node1, 'link', 'add', tap, 'type', 'veth', 'peer', 'name', 'tap7aa08012-d1']);
      await run(['ip', '-n', node1, 'link', 'set', tap, 'up']);
    };
    await create();
    const r = record({ host: sshHost('node1'), iface: tap });
    await r.capture.start();
    await run(['ip', '-n', node1, 'link', 'del', tap]);
    await waitFor('gone', () => r.states.some(([s]) => s === 'gone'));
    await sleep(1500); // a few attempts while it is missing
    await create();
    await waitFor('up again', () => r.states.filter(([s]) => s === 'up').length === 2);
    await r.capture.stop();
    const host = sshHost('node1');
    expect(r.states[0]).toEqual(['up', null]);
    expect(r.states[1]).toEqual([
      'gone',
      `interface went away on ${host}: ${tap} (tcpdump: pcap_loop: The interface disappeared)`,
    ]);
    const missing = r.states.slice(2, -2);
    expect(missing.length).toBeGreaterThan(0);
    for (const [state, reason] of missing) {
      expect(state).toBe('gone');
      expect(reason).toMatch(
        new RegExp(`^interface (not found|down) on ${host}: ${tap} \\(tcpdump: ${tap}: `),
      );
    }
    expect(r.states.slice(-2)).toEqual([
      ['up', null],
      ['stopped', null],
    ]);
    await run(['ip', '-n', node1, 'link', 'del', tap]);
  });

  it('captures in a process’s namespace on the host: pid:N through nsenter', async () => {
    const pids = (await run(['ip', 'netns', 'pids', ns(POD2)])).stdout.split('\n').filter((l) => l !== '');
    expect(pids.length).toBeGreaterThan(0);
    const r = record({ host: sshHost('node2'), netns: `pid:${pids[0]}`, iface: 'eth0', filter: 'icmp' });
    await r.capture.start();
    await runTraffic(lab, { only: ['ping-pod'] });
    await sleep(300);
    await r.capture.stop();
    expect(r.packets).toHaveLength(6);
  });

  it('errors are one clear line, and start() rejects at once without retrying', async () => {
    const node1 = sshHost('node1');
    const cases = await Promise.all([
      startFails({ host: node1, iface: 'nosuch0' }),
      startFails({ host: node1, netns: ns('nosuch'), iface: 'eth0' }),
      startFails({ host: node1, iface: 'eth0', tcpdumpPath: '/nonexistent/tcpdump' }),
      startFails({ host: node1, netns: ns(POD1), iface: 'eth0', tcpdumpPath: '/nonexistent/tcpdump' }),
      startFails({ host: node1, iface: 'eth0', filter: 'icmp and and' }),
      // An unknown host, resolved from inside a lab namespace without a default route
      // (no lookup leaves the lab).
      startFails({
        host: 'nosuch-host.invalid',
        iface: 'eth0',
        sshProgram: ['ip', 'netns', 'exec', ns('node1'), 'ssh'],
      }),
      // A lab-like host whose namespace is gone: its ProxyCommand fails, which is ssh failing.
      startFails({ host: 'node9', iface: 'eth0', sshConfig: brokenConfig() }),
      // Nothing answers: the start timeout ends it.
      startFails({ host: 'node8', iface: 'eth0', sshConfig: brokenConfig(), startTimeoutMs: 1500 }),
    ]);
    expect(cases.map((c) => [c.error.kind, c.error.message])).toEqual([
      [
        'interface_not_found',
        `interface not found on ${node1}: nosuch0 (tcpdump: nosuch0: No such device exists)`,
      ],
      [
        'netns_not_found',
        `network namespace not found on ${node1}: ${ns('nosuch')} (Cannot open network namespace "${ns('nosuch')}": No such file or directory)`,
      ],
      [
        'tcpdump_missing',
        `tcpdump missing on the remote host ${node1} (sh: 1: /nonexistent/tcpdump: not found)`,
      ],
      [
        'tcpdump_missing',
        `tcpdump missing on the remote host ${node1} (exec of "/nonexistent/tcpdump" failed: No such file or directory)`,
      ],
      [
        'bad_filter',
        `bad capture filter for ${node1}:eth0 (tcpdump: can't parse filter expression: syntax error)`,
      ],
      [
        'ssh_failed',
        'ssh to nosuch-host.invalid failed: ssh: Could not resolve hostname nosuch-host.invalid: Temporary failure in name resolution',
      ],
      [
        'ssh_failed',
        // then ssh's own words for the closed proxy, which vary with timing
        expect.stringMatching(
          new RegExp(
            `^ssh to node9 failed: Cannot open network namespace "${RUN}node9": No such file or directory; \\S`,
          ),
        ),
      ],
      ['start_timeout', 'tcpdump for node8:eth0 not listening after 1.5 s'],
    ]);
    for (const c of cases) {
      expect(c.error.message).not.toContain('\n');
      expect(c.ms).toBeLessThan(10_000);
      // Reported once, not retried.
      expect(c.rec.states).toEqual([['stopped', c.error.message]]);
      expect(c.rec.packets).toEqual([]);
    }
  });

  it('hostile names and filters reach tcpdump as data: clean errors, nothing created on the host', async () => {
    const node1 = sshHost('node1');
    const home = (await run(['ssh', '-F', lab.sshConfigPath, node1, 'pwd'])).stdout.trim();
    expect(home).toMatch(/^\//);
    const tag = randomBytes(4).toString('hex');
    const marks = [`/tmp/pwned-${tag}-a`, `/tmp/pwned-${tag}-b`, `/tmp/pwned-${tag}-c`, join(home, 'Zq7')];
    for (const m of marks) expect(existsSync(m), `${m} exists before the test`).toBe(false);
    const cases = await Promise.all([
      // The remote home is /root: `cd; cd ..; cd tmp` reaches /tmp without a '/' in the name.
      startFails({ host: node1, netns: `x; cd; cd ..; cd tmp; touch pwned-${tag}-a`, iface: 'eth0' }),
      // Trying to break out of the quotes.
      startFails({ host: node1, netns: `x'; cd; cd ..; cd tmp; touch pwned-${tag}-b; '`, iface: 'eth0' }),
      startFails({ host: node1, iface: 'eth0', filter: `icmp $(touch /tmp/pwned-${tag}-c)` }),
      startFails({ host: node1, iface: ';touch${IFS}Zq7' }),
      startFails({ host: node1, iface: '`id`' }),
    ]);
    expect(cases.map((c) => c.error.kind)).toEqual([
      'netns_not_found',
      'netns_not_found',
      'bad_filter',
      'interface_not_found',
      'interface_not_found',
    ]);
    expect(cases[0].error.message).toBe(
      `network namespace not found on ${node1}: x; cd; cd ..; cd tmp; touch pwned-${tag}-a (Cannot open network namespace "x; cd; cd ..; cd tmp; touch pwned-${tag}-a": No such file or directory)`,
    );
    expect(cases[3].error.message).toBe(
      `interface not found on ${node1}: ;touch\${IFS}Zq7 (tcpdump: ;touch\${IFS}Zq7: No such device exists)`,
    );
    expect(cases[4].error.message).toBe(
      `interface not found on ${node1}: \`id\` (tcpdump: \`id\`: No such device exists)`,
    );
    for (const m of marks) expect(existsSync(m), `${m} was created`).toBe(false);
  });

  it('stop() before tcpdump listens: start() rejects with `stopped`', async () => {
    const r = record({ host: sshHost('node2'), iface: 'eth0' });
    const started = r.capture.start().catch((err: unknown) => err);
    const final = await r.capture.stop();
    const err = await started;
    expect(err).toBeInstanceOf(RemoteCaptureError);
    expect((err as RemoteCaptureError).kind).toBe('stopped');
    expect(final).toEqual({ interfaceId: 3, received: 0, dropped: 0, final: true });
    expect(r.states.map(([s]) => s)).toEqual(['stopped']);
  });
});
