// dnat-local: DNAT of port 80 on the ingress NIC to 127.0.0.1:8080, healthy and
// with route_localnet off; plus two labs side by side and ssh to the lab hosts.
import { describe, expect, it } from 'vitest';
import { runTraffic, type LabView } from '../../src/lab/index.js';
import { inNetns, run, suiteLabs } from './support/lab-env.js';
import { captureDuring } from './support/tcpdump.js';

const SYN = /Flags \[S\]/;
const SYN_ACK = /Flags \[S\.\]/;

function ns(lab: LabView, host: string): string {
  const found = lab.hosts.find((h) => h.name === host);
  if (!found) throw new Error(`no host ${host}`);
  return found.netns;
}

describe('lab dnat-local', () => {
  const labs = suiteLabs('dnat-local', 'dnat', {
    healthy: { prefix: 'ok' },
    faulty: { prefix: 'nrl', fault: 'no-route-localnet' },
    second: { prefix: 'two' },
  });

  it('without a fault, connects through the DNAT to the local listener', async () => {
    const results = await runTraffic(labs.healthy);
    expect(results.map((r) => [r.name, r.succeeded])).toEqual([
      ['ping-edge', true],
      ['connect-dnat-port', true],
    ]);
  });

  it('without a fault, the SYN to port 80 is answered on the ingress NIC, from port 80 (un-NAT-ed)', async () => {
    const edge = ns(labs.healthy, 'edge');
    const lines = await captureDuring([{ netns: edge, iface: 'eth0' }], 'tcp', async () => {
      expect(
        (await inNetns(ns(labs.healthy, 'client'), ['nc', '-z', '-w', '2', '198.51.100.1', '80'])).exitCode,
      ).toBe(0);
    });
    const eth0 = lines.get(`${edge}/eth0`) ?? [];
    expect(eth0.some((l) => SYN.test(l) && l.includes('> 198.51.100.1.80:'))).toBe(true);
    expect(eth0.some((l) => SYN_ACK.test(l) && l.includes('198.51.100.1.80 >'))).toBe(true);
  });

  it('no-route-localnet: the SYN is seen on the ingress NIC and never answered', async () => {
    const edge = ns(labs.faulty, 'edge');
    let connect = -1;
    const lines = await captureDuring([{ netns: edge, iface: 'eth0' }], 'tcp port 80', async () => {
      connect = (await inNetns(ns(labs.faulty, 'client'), ['nc', '-z', '-w', '2', '198.51.100.1', '80']))
        .exitCode;
    });
    expect(connect).not.toBe(0);
    const eth0 = lines.get(`${edge}/eth0`) ?? [];
    expect(eth0.filter((l) => SYN.test(l)).length).toBeGreaterThan(0);
    expect(eth0.filter((l) => SYN_ACK.test(l))).toEqual([]);
    // Not a dead link: pings still work.
    const results = await runTraffic(labs.faulty);
    expect(results.map((r) => [r.name, r.succeeded, r.expectSuccess])).toEqual([
      ['ping-edge', true, true],
      ['connect-dnat-port', false, false],
    ]);
  });

  it('two labs with different prefixes are up at the same time and both work', async () => {
    expect(labs.second.namespaces.map((n) => n.name)).not.toEqual(labs.healthy.namespaces.map((n) => n.name));
    const [a, b] = await Promise.all([runTraffic(labs.healthy), runTraffic(labs.second)]);
    expect([...a, ...b].every((r) => r.succeeded)).toBe(true);
  });

  it('every lab host answers over ssh through the lab’s ssh_config', async () => {
    for (const host of labs.healthy.hosts) {
      const r = await run(['ssh', '-F', labs.healthy.sshConfigPath, host.sshName, 'ip', '-br', 'link']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^eth0@/m);
    }
  });
});
