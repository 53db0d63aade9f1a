// An ICMP redirect (RFC 792 type 5) quotes the packet it is about, as an error does, but
// the router sent the packet on as well: a ping answered after its redirect is ok, and
// one never answered is unanswered, never an `error` ended by the redirect. And a packet
// going round a routing loop is one exchange, ended by the time-exceeded error, however
// late a copy of it with a lower TTL is read. Crafted recordings of a VM and its router,
// replayed as a user would (`replay --json`).
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

/** The exchange records of `replay --json` of dir's vm.pcap and router.pcap. */
function exchangesOf(dir: string): ExchangeRecord[] {
  const r = runCli(['replay', `vm=${join(dir, 'vm.pcap')}`, `router=${join(dir, 'router.pcap')}`, '--json']);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"exchange"'))
    .map((l) => JSON.parse(l) as ExchangeRecord);
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
    const records = exchangesOf(dir);
    const byKey = records.map((e) => [e.key, e.status, e.stages.map((s) => s.name)]).sort();
    expect(byKey).toEqual([
      ['10.0.0.5>203.0.113.1 id=16962 seq=1', 'ok', ['request', 'reply']],
      ['10.0.0.5>203.0.113.1 id=16962 seq=2', 'unanswered', ['request']],
      ['10.0.0.5>203.0.113.1 id=16962 seq=3', 'ok', ['request', 'reply']],
    ]);
    expect(records.some((e) => e.detail !== undefined)).toBe(false);
  });
});

describe('a routing loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-routing-loop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // the request leaves the VM with TTL 3 and crosses the router's interface twice (TTL 2,
  // then 0 after one more router: the last copy, read after the error reached the VM, as
  // a batch of another interface may deliver it live); the router that drops it says time exceeded
  const req = (ttl: number): Uint8Array => {
    const f = icmpFrame(VM, SERVER, ttl, echo(8, 7));
    // one packet: the same IP id in every copy
    f[14 + 4] = 0x03;
    f[14 + 5] = 0x00;
    return f;
  };
  const vm: Timed[] = [{ frame: req(3), ms: 0 }];
  const router: Timed[] = [{ frame: req(2), ms: 0.1 }];
  const exceeded = icmpFrame(
    ROUTER,
    VM,
    64,
    concat(hex('0b', '00', '0000', '00000000'), req(1).subarray(14)),
  );
  router.push({ frame: exceeded, ms: 0.3 });
  vm.push({ frame: exceeded, ms: 0.4 });
  router.push({ frame: req(0), ms: 0.45 }); // after the error reached the VM
  writeFileSync(join(dir, 'vm.pcap'), pcapFile(vm));
  writeFileSync(join(dir, 'router.pcap'), pcapFile(router));

  it('is one exchange, ended by the time-exceeded error', () => {
    const records = exchangesOf(dir);
    expect(records.map((e) => [e.key, e.status, e.detail])).toEqual([
      ['10.0.0.5>203.0.113.1 id=16962 seq=7', 'error', 'time-exceeded'],
    ]);
    expect(records[0].stages.map((s) => [s.name, s.seen.map((x) => x.iface)])).toEqual([
      ['request', ['vm', 'router']],
      ['icmp-error', ['router', 'vm']],
    ]);
  });
});
