// An ICMP redirect (RFC 792 type 5) quotes the packet it is about, as an error does, but
// the router sent the packet on as well: a ping answered after its redirect is ok, and
// one never answered is unanswered, never an `error` ended by the redirect. Crafted
// recordings of a VM and its router, replayed as a user would (`replay --json`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { ethernet, ipv4Header } from '../decode/support/frames.js';
import { concat, hex } from '../decode/support/hex.js';
import { runCli } from '../support/run-cli.js';
import { pcapFile, type Timed } from './support/dns-tcp-frames.js';

const VM = '0a000005'; // 10.0.0.5
const ROUTER = '0a000001'; // 10.0.0.1
const OTHER_ROUTER = '0a000002'; // 10.0.0.2, the better first hop the redirect names
const SERVER = 'cb007101'; // 203.0.113.1

let ipId = 0x200;

function icmpFrame(src: string, dst: string, ttl: number, icmp: Uint8Array): Uint8Array {
  return concat(ethernet('0800'), ipv4Header(1, icmp.length, { src, dst, ttl, id: ipId++ }), icmp);
}

/** An echo request (8) or reply (0) of id 0x4242 and sequence `seq`, with ping's 8-byte time stamp. */
function echo(type: 0 | 8, seq: number): Uint8Array {
  return hex(
    type === 8 ? '08' : '00',
    '00',
    '0000',
    '4242',
    seq.toString(16).padStart(4, '0'),
    (0x65000000 + seq).toString(16).padStart(8, '0'),
    '000a0b0c',
  );
}

/** Redirect for the host (code 1) to OTHER_ROUTER, quoting the request as the router got it. */
function redirect(request: Uint8Array): Uint8Array {
  return concat(hex('05', '01', '0000', OTHER_ROUTER), request.subarray(14));
}

describe('ICMP redirects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-icmp-redirect-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // seq 1: redirected, sent on, answered; seq 2 (1 s later): redirected, never answered;
  // seq 3 (5 s later, past seq 2's timeout: both captures still running then): answered
  const vm: Timed[] = [];
  const router: Timed[] = [];
  for (const [seq, at, redirected, answered] of [
    [1, 0, true, true],
    [2, 1000, true, false],
    [3, 5000, false, true],
  ] as const) {
    const req = icmpFrame(VM, SERVER, 64, echo(8, seq));
    vm.push({ frame: req, ms: at });
    router.push({ frame: req, ms: at + 0.1 });
    if (redirected) {
      const r = icmpFrame(ROUTER, VM, 64, redirect(req));
      router.push({ frame: r, ms: at + 0.2 });
      vm.push({ frame: r, ms: at + 0.3 });
    }
    if (answered) {
      const rep = icmpFrame(SERVER, VM, 60, echo(0, seq));
      router.push({ frame: rep, ms: at + 1 });
      vm.push({ frame: rep, ms: at + 1.1 });
    }
  }
  writeFileSync(join(dir, 'vm.pcap'), pcapFile(vm));
  writeFileSync(join(dir, 'router.pcap'), pcapFile(router));

  it('ends no exchange: answered after it is ok, never answered is unanswered', () => {
    const r = runCli([
      'replay',
      `vm=${join(dir, 'vm.pcap')}`,
      `router=${join(dir, 'router.pcap')}`,
      '--json',
    ]);
    const records = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"type":"exchange"'))
      .map((l) => JSON.parse(l) as ExchangeRecord);
    const byKey = records.map((e) => [e.key, e.status, e.stages.map((s) => s.name)]).sort();
    expect(byKey).toEqual([
      ['10.0.0.5>203.0.113.1 id=16962 seq=1', 'ok', ['request', 'reply']],
      ['10.0.0.5>203.0.113.1 id=16962 seq=2', 'unanswered', ['request']],
      ['10.0.0.5>203.0.113.1 id=16962 seq=3', 'ok', ['request', 'reply']],
    ]);
    expect(records.some((e) => e.detail !== undefined)).toBe(false);
  });
});
