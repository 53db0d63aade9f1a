// ICMP timestamp (RFC 792 types 13/14) is an exchange kind like echo: crafted
// recordings of a VM and the router it pings through, replayed as a user would
// (`replay --json`, on the decoder thread and on the main thread): a request answered
// is ok, a reply that stopped at the router is lost there, and an ICMP error quoting
// the request ends it as an error — each with its flow.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { ethernet, ipv4Header } from '../decode/support/frames.js';
import { concat, hex } from '../decode/support/hex.js';
import { runCli } from '../support/run-cli.js';
import { pcapFile, type Timed } from './support/dns-tcp-frames.js';
import { NO_CAUSES_NOTE } from '../support/replay-notes.js';

const VM = '0a000005'; // 10.0.0.5
const SERVER = 'cb007101'; // 203.0.113.1
const ID = 0x1f2e;

let ipId = 0x100;

/** Ethernet + IPv4 + an ICMP message, `ttl` as seen on that interface. */
function icmpFrame(src: string, dst: string, ttl: number, icmp: Uint8Array): Uint8Array {
  return concat(ethernet('0800'), ipv4Header(1, icmp.length, { src, dst, ttl, id: ipId++ }), icmp);
}

/** A timestamp request (13) or reply (14) of sequence `seq`. */
function timestamp(type: 13 | 14, seq: number): Uint8Array {
  return hex(
    type === 13 ? '0d' : '0e', // type
    '00', // code
    '0000', // checksum (not verified)
    ID.toString(16).padStart(4, '0'), // identifier
    seq.toString(16).padStart(4, '0'), // sequence
    (0x02a5c1e0 + seq).toString(16).padStart(8, '0'), // originate timestamp (the reply keeps it)
    type === 13 ? '00000000' : '02a5c1f0', // receive timestamp (the replier's)
    type === 13 ? '00000000' : '02a5c1f0', // transmit timestamp (the replier's)
  );
}

/** Destination unreachable, administratively prohibited, quoting a request's IP header and first 8 ICMP bytes and more. */
function prohibited(request: Uint8Array): Uint8Array {
  return concat(
    hex(
      '03', // type 3 destination unreachable
      '0d', // code 13 communication administratively prohibited
      '0000', // checksum
      '00000000', // unused
    ),
    request.subarray(14), // the request as the router got it: IPv4 header and ICMP message
  );
}

describe('ICMP timestamp exchanges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-icmp-timestamp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // seq 3 at 0 ms: refused by the router; seq 2 at 2 s: the reply reaches the router,
  // not the VM; seq 1 at 5 s: answered.
  const vm: Timed[] = [];
  const router: Timed[] = [];
  const req3 = icmpFrame(VM, SERVER, 64, timestamp(13, 3));
  vm.push({ frame: req3, ms: 0 });
  router.push({ frame: icmpFrame(VM, SERVER, 64, timestamp(13, 3)), ms: 0.1 });
  const error = icmpFrame('0a000001', VM, 64, prohibited(req3));
  router.push({ frame: error, ms: 0.2 });
  vm.push({ frame: error, ms: 0.3 });
  const req2 = icmpFrame(VM, SERVER, 64, timestamp(13, 2));
  vm.push({ frame: req2, ms: 2000 });
  router.push({ frame: req2, ms: 2000.1 });
  router.push({ frame: icmpFrame(SERVER, VM, 60, timestamp(14, 2)), ms: 2001 });
  const req1 = icmpFrame(VM, SERVER, 64, timestamp(13, 1));
  vm.push({ frame: req1, ms: 5000 });
  router.push({ frame: req1, ms: 5000.1 });
  const rep1 = icmpFrame(SERVER, VM, 60, timestamp(14, 1));
  router.push({ frame: rep1, ms: 5001 });
  vm.push({ frame: rep1, ms: 5001.1 });
  writeFileSync(join(dir, 'vm.pcap'), pcapFile(vm));
  writeFileSync(join(dir, 'router.pcap'), pcapFile(router));
  const files = [`vm=${join(dir, 'vm.pcap')}`, `router=${join(dir, 'router.pcap')}`];

  function exchanges(...args: string[]): ExchangeRecord[] {
    const r = runCli(['replay', ...files, '--json', ...args]);
    // problem verdicts, and a file without causes: the one note about them
    expect(r.stderr).toBe(NO_CAUSES_NOTE);
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"type":"exchange"'))
      .map((l) => JSON.parse(l) as ExchangeRecord);
  }

  for (const [path, args] of [
    ['the decoder thread', []],
    ['the main thread', ['--speed', '1e12']],
  ] as const) {
    it(`ok, lost where the reply stopped, an error quoting the request (${path})`, () => {
      const records = exchanges(...args);
      expect(records.map((e) => [e.kind, e.key, e.status])).toEqual([
        ['icmp-timestamp', '10.0.0.5>203.0.113.1 id=7982 seq=3', 'error'],
        ['icmp-timestamp', '10.0.0.5>203.0.113.1 id=7982 seq=2', 'lost'],
        ['icmp-timestamp', '10.0.0.5>203.0.113.1 id=7982 seq=1', 'ok'],
      ]);
      const [refused, lost, ok] = records;
      expect(refused.detail).toBe('admin-prohibited');
      expect(refused.stages.map((s) => s.name)).toEqual(['request', 'icmp-error']);
      expect(lost.lost).toEqual({ stage: 'reply', lastSeen: 'router', missingOn: ['vm'] });
      expect(ok.flow).toEqual({ src: '10.0.0.5', dst: '203.0.113.1', id: 7982, seq: 1 });
      expect(ok.stages.map((s) => [s.name, s.seen.map((x) => x.iface)])).toEqual([
        ['request', ['vm', 'router']],
        ['reply', ['router', 'vm']],
      ]);
      expect(ok.rttMs).toBe(1.1);
    });
  }
});
