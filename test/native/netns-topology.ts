// A throwaway two-namespace topology for the native capture tests, and small
// helpers to read what was captured.
//
//   <prefix>-a                     <prefix>-b
//   a0 10.201.0.1/24  ── veth ──   b0 10.201.0.2/24
//   a1 10.201.1.1/24  ── veth ──   b1 10.201.1.2/24   (deleted by a test)
//
// Lab rules (README "The lab"): addresses only from 10/8, all inside these two
// namespaces; nothing is created in the root namespace (the veths are created
// inside <prefix>-a with their peers moved straight into <prefix>-b); traffic
// only ever goes between the two. The prefix is unique per run so parallel runs
// never collide, and teardown removes exactly what was created.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import type { FramedPacket } from '../../src/events/types.js';
import { recordTestRun } from '../support/test-runs.js';
import type { CaptureError } from '../../src/sources/native-addon.js';
import type { LiveCapture, PacketBatchView } from '../../src/sources/live-capture.js';

const execFileAsync = promisify(execFile);

export const A_ADDR = '10.201.0.1';
export const B_ADDR = '10.201.0.2';
export const A1_ADDR = '10.201.1.1';
export const B1_ADDR = '10.201.1.2';

export async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Fails (never skips) when the suite cannot do what it is for. */
export function requireRoot(): void {
  const uid = process.getuid?.();
  if (uid !== 0) {
    throw new Error(
      `test/native must run as root (uid 0, here ${uid ?? 'unknown'}): it creates network namespaces ` +
        'and captures packets. Run it as root: sudo npx vitest run test/native',
    );
  }
}

export class Topology {
  readonly prefix: string;
  readonly nsA: string;
  readonly nsB: string;
  readonly created: string[] = [];

  constructor(tag: string) {
    this.prefix = `nt${process.pid}${randomBytes(2).toString('hex')}${tag}`;
    // Should this run be killed before down(), the next one removes the namespaces.
    recordTestRun(this.prefix);
    this.nsA = `${this.prefix}-a`;
    this.nsB = `${this.prefix}-b`;
  }

  get pathA(): string {
    return `/var/run/netns/${this.nsA}`;
  }

  async up(): Promise<void> {
    for (const ns of [this.nsA, this.nsB]) {
      await run('ip', ['netns', 'add', ns]);
      this.created.push(ns);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // No IPv6 autoconfiguration chatter on the links: the tests count packets.
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await this.addPair('a0', 'b0', A_ADDR, B_ADDR);
    await this.addPair('a1', 'b1', A1_ADDR, B1_ADDR);
  }

  private async addPair(aIf: string, bIf: string, aAddr: string, bAddr: string): Promise<void> {
    await run('ip', [
      '-n',
      this.nsA,
      'link',
      'add',
      aIf,
      'type',
      'veth',
      'peer',
      'name',
      bIf,
      'netns',
      this.nsB,
    ]);
    await run('ip', ['-n', this.nsA, 'addr', 'add', `${aAddr}/24`, 'dev', aIf]);
    await run('ip', ['-n', this.nsB, 'addr', 'add', `${bAddr}/24`, 'dev', bIf]);
    await run('ip', ['-n', this.nsA, 'link', 'set', aIf, 'up']);
    await run('ip', ['-n', this.nsB, 'link', 'set', bIf, 'up']);
  }

  /** Runs a command (e.g. `ip -n <ns> link del …`) from this process. */
  run(args: string[]): Promise<string> {
    return run(args[0], args.slice(1));
  }

  /** Runs a command inside namespace B (the traffic source). */
  inB(args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', this.nsB, ...args]);
  }

  async down(): Promise<void> {
    for (const ns of this.created.splice(0).reverse()) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  }

  /** Namespaces of this run still listed by `ip netns list`. */
  async leftovers(): Promise<string[]> {
    const list = await run('ip', ['netns', 'list']);
    return list
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((name) => name.startsWith(this.prefix));
  }
}

/** One captured packet, copied out of its batch (the batch buffer is reused). */
export interface CopiedPacket {
  tsSec: number;
  tsNsec: number;
  caplen: number;
  len: number;
  bytes: Uint8Array;
}

export function copyPacket(p: FramedPacket): CopiedPacket {
  return {
    tsSec: p.tsSec,
    tsNsec: p.tsNsec,
    caplen: p.caplen,
    len: p.len,
    bytes: p.data.slice(p.offset, p.offset + p.caplen),
  };
}

export interface Collector {
  packets: CopiedPacket[];
  batchSizes: number[];
  errors: CaptureError[];
}

/** Starts `capture` and collects every packet (copied) and every batch size. */
export function startCollecting(capture: LiveCapture): Collector {
  const c: Collector = { packets: [], batchSizes: [], errors: [] };
  capture.start(
    (batch: PacketBatchView) => {
      c.batchSizes.push(batch.count);
      batch.forEach((p) => c.packets.push(copyPacket(p)));
    },
    (err) => c.errors.push(err),
  );
  return c;
}

export async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An ICMP echo inside an Ethernet/IPv4 frame, or null for anything else. */
export interface Echo {
  type: 'request' | 'reply';
  src: string;
  dst: string;
  id: number;
  seq: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_ICMP = 1;

export function parseEcho(b: Uint8Array): Echo | null {
  if (b.length < 14 + 20 + 8) return null;
  if (((b[12] << 8) | b[13]) !== ETHERTYPE_IPV4) return null;
  const ip = 14;
  const ihl = (b[ip] & 0x0f) * 4;
  if (b[ip + 9] !== IPPROTO_ICMP || b.length < ip + ihl + 8) return null;
  const icmp = ip + ihl;
  const icmpType = b[icmp];
  if (icmpType !== 8 && icmpType !== 0) return null;
  const addr = (o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  return {
    type: icmpType === 8 ? 'request' : 'reply',
    src: addr(ip + 12),
    dst: addr(ip + 16),
    id: (b[icmp + 4] << 8) | b[icmp + 5],
    seq: (b[icmp + 6] << 8) | b[icmp + 7],
  };
}

/** tcpdump running in a namespace, started and known to be listening. */
export class Tcpdump {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
  }

  static async start(ns: string, iface: string, filter: string): Promise<Tcpdump> {
    const child = spawn(
      'ip',
      // --immediate-mode: otherwise tcpdump's TPACKET_V3 block timeout holds packets back.
      [
        'netns',
        'exec',
        ns,
        'tcpdump',
        '-i',
        iface,
        '--immediate-mode',
        '--time-stamp-precision=nano',
        '-tt',
        '-n',
        '-l',
        '-p',
        filter,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const t = new Tcpdump(child);
    await waitFor(
      'tcpdump to listen',
      () => t.stderr.includes('listening on') || child.exitCode !== null,
      10_000,
    );
    if (child.exitCode !== null) throw new Error(`tcpdump exited: ${t.stderr}`);
    return t;
  }

  /** What tcpdump printed so far. */
  get output(): string {
    return this.stdout;
  }

  async stop(): Promise<string> {
    this.child.kill('SIGINT');
    await this.exited;
    return this.stdout;
  }
}

export interface TcpdumpEcho {
  tsSec: number;
  tsNsec: number;
  type: 'request' | 'reply';
  seq: number;
}

export function parseTcpdumpEchoes(output: string): TcpdumpEcho[] {
  const echoes: TcpdumpEcho[] = [];
  const line = /^(\d+)\.(\d{9}) IP \S+ > \S+: ICMP echo (request|reply), id \d+, seq (\d+)/;
  for (const text of output.split('\n')) {
    const m = line.exec(text);
    if (m === null) continue;
    echoes.push({
      tsSec: Number(m[1]),
      tsNsec: Number(m[2]),
      type: m[3] as 'request' | 'reply',
      seq: Number(m[4]),
    });
  }
  return echoes;
}
