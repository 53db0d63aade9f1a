// An answer read before its question joins the exchange the question opens
// (docs/verdicts.md "Exchanges and their stages"). Live, each interface's capture
// delivers in batches of its own, so a router's copy of a SYN-ACK can be read before
// any copy of its SYN, and a recording keeps that order; a real capture (Wireshark's
// ipv6-http-atomic-frag) holds its SYN-ACK before its SYN, in time order the other
// way round. The handshake is ok, its SYN-ACK seen — not unanswered.
import { describe, expect, it } from 'vitest';
import { CORPUS_AVAILABLE, corpusPath } from '../decode/support/corpus.js';
import { exchangesOf } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

const KEY = '2001:db8:1::2:36951>2001:db8:1::1:80 isn=3810442574';

describe.skipIf(!CORPUS_AVAILABLE)('a SYN-ACK written before its SYN', () => {
  it('is the handshake’s answer, however the file is read', () => {
    for (const mode of [['--json'], ['--packets', '--json']]) {
      const r = runCli(['replay', corpusPath('ipv6-http-atomic-frag.pcap'), ...mode]);
      expect(r.status, r.stderr).toBe(0);
      const handshakes = exchangesOf(r.stdout.split('\n'), 'tcp-handshake');
      const h = handshakes.find((x) => x.key === KEY);
      expect(h?.status, mode.join(' ')).toBe('ok');
      expect(h?.stages.map((s) => [s.name, s.seen.map((x) => x.ts)])).toEqual([
        ['syn', ['1333039452.497486000']],
        ['syn-ack', ['1333039452.497516000']],
        ['ack', ['1333039452.510626000']],
      ]);
      expect(h?.rttMs).toBe(0.03);
    }
    const text = runCli(['replay', corpusPath('ipv6-http-atomic-frag.pcap')]);
    expect(text.stdout).toMatch(/4 exchanges: 4 ok, 0 lost, 0 unanswered/);
  });
});
