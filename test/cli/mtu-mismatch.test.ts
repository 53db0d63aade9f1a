// Two ends of a link that disagree on its MTU: the router's side takes 1500 bytes, the
// server's 1400. The first packet too big for the server's side is handed over by the
// router and dropped on the way in, with nothing learned yet of where packets to the
// server go. The interface that holds the destination address was captured and never
// saw it: lost there, not "unanswered" (docs/verdicts.md "The expected path"); why:
// the receiving side's MTU (docs/json-lines.md `cause`, `mtu`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNetns, runAll, runPrefix } from '../lab/support/lab-env.js';
import { downRoutedPair, routedPair } from '../lab/support/routed-pair.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

describe('a link whose ends disagree on its MTU', () => {
  const P = runPrefix('mtu');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);

  beforeAll(async () => {
    await routedPair(P, 98);
    await runAll(['ip', '-n', b, 'link', 'set', 'eth0', 'mtu', '1400']);
  });

  afterAll(() => downRoutedPair(P));

  it('the first big ping is lost before the server’s side, whose MTU says why', async () => {
    const { lines } = await captureWhile(
      ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`],
      4,
      // (DF set, 1478 bytes: the router's side takes it, the server's does not)
      () => inNetns(a, ['ping', '-c1', '-W1', '-M', 'do', '-s', '1450', '10.98.2.2']).catch(() => undefined),
      (l) => exchangesOf(l, 'icmp-echo').length > 0,
    );
    const [big] = exchangesOf(lines, 'icmp-echo');
    expect(big.stages[0].seen.map((x) => x.iface)).toEqual([`${a}/eth0`, `${r}/ra`, `${r}/rb`]);
    expect(big.status).toBe('lost');
    expect(big.lost).toEqual({ stage: 'request', lastSeen: `${r}/rb`, missingOn: [`${b}/eth0`] });
    expect(big.cause?.code).toBe('mtu');
    expect(big.cause?.summary).toMatch(/^1478-byte packets do not fit eth0's MTU of 1400/);
    expect(big.cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'link', netns: b, iface: 'eth0', mtu: 1400, packetBytes: 1478 }),
    );
  }, 60_000);
});
