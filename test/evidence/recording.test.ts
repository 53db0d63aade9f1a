// Causes carried in a recording: written as statistics-block comments by the real
// pcapng writer, read back by hopscope's reader in order with the packets, shown by
// tshark, and decoded to the very cause that was written — so a replay can explain as
// the live capture did. Other comments are not causes; damaged ones say why.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Cause, ExchangeRecord } from '../../src/events/types.js';
import { PcapngWriter, readCaptureFile } from '../../src/framing/index.js';
import {
  causeKey,
  decodeCauseComment,
  encodeCauseComment,
  MAX_CAUSE_COMMENT_BYTES,
  MAX_EVIDENCE_ITEMS,
} from '../../src/evidence/recording.js';

const work = mkdtempSync(join(tmpdir(), 'hopscope-causes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const exchange: Pick<ExchangeRecord, 'kind' | 'key' | 'ts'> = {
  kind: 'icmp-echo',
  key: '203.0.113.1>203.0.113.20 id=7 seq=1',
  ts: '1700000000.123456789',
};
const cause: Cause = {
  code: 'netfilter-drop',
  summary:
    'dropped by nftables rule handle 2 in bridge neutron_sg forward: `iifname "qvb7aa08012-d0" icmp type echo-request drop`',
  at: 'compute/qvb7aa08012-d0',
  evidence: [
    {
      source: 'kernel',
      netns: 'compute',
      reason: 'NETFILTER_DROP',
      location: 'nft_do_chain+0x46f',
      matchedBy: 'packet',
      drops: 1,
      ts: '1700000000.123500000',
    },
    {
      source: 'nftables',
      netns: 'compute',
      family: 'bridge',
      table: 'neutron_sg',
      chain: 'forward',
      handle: 2,
      rule: 'iifname "qvb7aa08012-d0" icmp type echo-request drop',
      verdict: 'drop',
      matchedBy: 'match',
    },
    { source: 'iptables', netns: 'compute', unreadable: 'iptables-legacy-save: not permitted (needs root)' },
  ],
};

describe('causes in a recording', () => {
  it('a statistics block’s comment, read back by hopscope in order with the packets and shown by tshark', async () => {
    const file = join(work, 'run.pcapng');
    const writer = PcapngWriter.toFile(file, { now: () => ({ sec: 1700000001, nsec: 0 }) });
    writer.addInterface({ id: 0, label: 'compute/qvb7aa08012-d0', linktype: 1, snaplen: 262144 });
    const frame = new Uint8Array(60);
    writer.writePacket({
      interfaceId: 0,
      tsSec: 1700000000,
      tsNsec: 123456789,
      caplen: 60,
      len: 60,
      data: frame,
      offset: 0,
      direction: 0,
    });
    writer.writeStats(
      { interfaceId: 0, received: 1, dropped: 0, final: false },
      encodeCauseComment(exchange, cause),
    );
    writer.writePacket({
      interfaceId: 0,
      tsSec: 1700000002,
      tsNsec: 0,
      caplen: 60,
      len: 60,
      data: frame,
      offset: 0,
      direction: 0,
    });
    writer.close([{ interfaceId: 0, received: 2, dropped: 0, final: true }]);

    const order: string[] = [];
    const comments: string[] = [];
    await readCaptureFile(file, {
      onInterface: () => undefined,
      onPacket: () => order.push('packet'),
      onStats: (s) => {
        order.push('stats');
        comments.push(...(s.comments ?? []));
      },
    });
    expect(order.slice(0, 3)).toEqual(['packet', 'stats', 'packet']);
    const decoded = comments.map(decodeCauseComment).filter((d) => d !== null);
    expect(decoded).toEqual([{ ok: true, value: { ...exchange, cause } }]);
    if (decoded[0]?.ok) expect(causeKey(decoded[0].value)).toBe(causeKey(exchange));

    const shown = execFileSync('tshark', ['-r', file, '-X', 'read_format:MIME Files Format', '-V'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(shown).toContain('hopscope cause 1 {"kind":"icmp-echo"');
    execFileSync('capinfos', [file], { stdio: 'ignore' });
  });

  it('other comments are not causes; damaged or newer ones say why', () => {
    expect(decodeCauseComment('hopscope: capture gone')).toBeNull();
    expect(decodeCauseComment('hopscope cause 2 {}')).toEqual({
      ok: false,
      reason: 'version 2 (this hopscope reads 1)',
    });
    expect(decodeCauseComment('hopscope cause 1 {"kind":')).toEqual({ ok: false, reason: 'not JSON' });
    const bad = encodeCauseComment(exchange, { ...cause, code: 'gremlins' as Cause['code'] });
    expect(decodeCauseComment(bad)).toEqual({ ok: false, reason: 'unknown code "gremlins"' });
  });

  it('bounded: at most 64 evidence items and 64 KiB, cut at a whole item and said so', () => {
    const many: Cause = {
      ...cause,
      evidence: Array.from({ length: 500 }, (_, k) => ({
        source: 'route' as const,
        query: `10.0.${k >> 8}.${k & 255}`,
        route: 'x'.repeat(400),
      })),
    };
    const text = encodeCauseComment(exchange, many);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_CAUSE_COMMENT_BYTES);
    const d = decodeCauseComment(text);
    expect(d?.ok).toBe(true);
    if (d?.ok) {
      expect(d.value.truncated).toBe(true);
      expect(d.value.cause.evidence.length).toBeLessThanOrEqual(MAX_EVIDENCE_ITEMS);
      expect(d.value.cause.evidence[0]).toEqual(many.evidence[0]);
    }
  });
});
