// An exchange keeps its DNS question's name in its row up to 64 bytes on the wire and
// longer ones beside it (correlate/tables.ts KEY_NAME_INLINE): a verdict's flow and
// key name the question whatever its length, up to the longest name DNS allows (255
// bytes on the wire), answered or not, and one row's long name never shows up in the
// exchange that reuses the row.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnsFlow, ExchangeRecord } from '../../src/events/types.js';
import { ethIpv4Udp } from '../decode/support/frames.js';
import { runCli } from '../support/run-cli.js';
import { dnsQuery, dnsResponse, pcapFile, type Timed } from './support/dns-tcp-frames.js';
import { NO_CAUSES_NOTE } from '../support/replay-notes.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-key-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A name of `wire` bytes on the wire: labels of up to 63 letters, the root's zero byte counted. */
function nameOfWireLength(wire: number, letter: string): string {
  const labels: string[] = [];
  let left = wire - 1;
  while (left > 0) {
    // a label takes its length byte; never leave a single byte (an empty label)
    const take = Math.min(63, left - 1, left - 1 === 64 ? 62 : 63);
    labels.push(letter.repeat(take));
    left -= take + 1;
  }
  return labels.join('.');
}

const CLIENT = { src: '10.0.0.5', dst: '10.0.0.53' };
const ip = { src: '0a000005', dst: '0a000035' };
const back = { src: '0a000035', dst: '0a000005' };

describe('DNS names of every length in verdicts', () => {
  const lengths = [3, 14, 63, 64, 65, 66, 130, 200, 255];
  const names = lengths.map((len, i) => nameOfWireLength(len, String.fromCharCode(97 + (i % 26))));
  const packets: Timed[] = [];
  // first round: every other question answered; the second (6 s later, after the
  // timeouts) reuses the rows with the names in the other order
  names.forEach((name, i) => {
    packets.push({ frame: ethIpv4Udp(40000 + i, 53, dnsQuery(100 + i, name), ip), ms: i });
    if (i % 2 === 0)
      packets.push({
        frame: ethIpv4Udp(53, 40000 + i, dnsResponse(100 + i, name, 0, ['c0000201']), back),
        ms: i + 0.5,
      });
  });
  [...names].reverse().forEach((name, i) => {
    packets.push({ frame: ethIpv4Udp(41000 + i, 53, dnsQuery(200 + i, name), ip), ms: 6000 + i });
    packets.push({
      frame: ethIpv4Udp(53, 41000 + i, dnsResponse(200 + i, name, 0, ['c0000201']), back),
      ms: 6000.5 + i,
    });
  });
  const file = join(dir, 'names.pcap');
  writeFileSync(file, pcapFile(packets));

  it('flow.qname and key are the question, answered or not, and after a row is reused', () => {
    const r = runCli(['replay', file, '--json']);
    // problem verdicts, and a file without causes: the one note about them
    expect(r.stderr).toBe(NO_CAUSES_NOTE);
    const dns = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"type":"exchange"'))
      .map((l) => JSON.parse(l) as ExchangeRecord)
      .filter((e) => e.kind === 'dns');
    const expected = [
      ...names.map((name, i) => ({ id: 100 + i, name, status: i % 2 === 0 ? 'ok' : 'unanswered' })),
      ...[...names].reverse().map((name, i) => ({ id: 200 + i, name, status: 'ok' })),
    ];
    const got = dns
      .map((e) => ({
        id: (e.flow as DnsFlow).id,
        name: (e.flow as DnsFlow).qname,
        status: e.status,
        key: e.key,
      }))
      .sort((a, b) => a.id - b.id);
    expect(got).toEqual(
      expected.map((x) => ({ ...x, key: `${CLIENT.src}>${CLIENT.dst} id=${x.id} ${x.name} A` })),
    );
  });
});
