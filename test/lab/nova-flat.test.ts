// nova-flat: VM behind br100 with a real dnsmasq, SNAT to a floating IP; each
// fault checked by the traffic's outcome and by tcpdump on the hops.
import { describe, expect, it } from 'vitest';
import { labStatus, type LabView } from '../../src/lab/index.js';
import { inNetns, suiteLabs, trafficOutcomes } from './support/lab-env.js';
import { captureDuring } from './support/tcpdump.js';

const TAP = 'tap7aa08012-d0';
const ECHO_REQUEST = /ICMP echo request/;
const ECHO_REPLY = /ICMP echo reply/;
const DHCP_REQUEST = /BOOTP\/DHCP, Request/;
const DHCP_REPLY = /BOOTP\/DHCP, Reply/;

function netns(lab: LabView, suffix: string): string {
  const found = lab.namespaces.find((n) => n.name === `${lab.prefix}${suffix}`);
  if (!found) throw new Error(`no namespace ${suffix}`);
  return found.name;
}

const vm = (lab: LabView): string => netns(lab, 'instance-00000001');
const compute = (lab: LabView): string => netns(lab, 'compute');

describe('lab nova-flat', () => {
  const labs = suiteLabs('nova-flat', 'nova', {
    healthy: { prefix: 'ok' },
    replyDrop: { prefix: 'rd', fault: 'reply-drop-br100' },
    dnsmasqStopped: { prefix: 'ds', fault: 'dnsmasq-stopped' },
    dnsDrop: { prefix: 'dd', fault: 'dns-answer-drop' },
  });

  it('without a fault: DHCP, DNS, ping and TCP through SNAT all work', async () => {
    expect(await trafficOutcomes(labs.healthy)).toEqual([
      ['dhcp', true, true],
      ['dns', true, true],
      ['ping-external', true, true],
      ['http-external', true, true],
      ['ping-floating-ip', true, true],
    ]);
    const dig = await inNetns(vm(labs.healthy), [
      'dig',
      '@10.0.0.1',
      'web.lab',
      '+short',
      '+time=1',
      '+tries=2',
    ]);
    expect(dig.stdout.trim()).toBe('203.0.113.10');
  });

  it('without a fault: the VM’s ping leaves eth1 SNAT-ed to the floating IP', async () => {
    const lines = await captureDuring([{ netns: compute(labs.healthy), iface: 'eth1' }], 'icmp', async () => {
      await inNetns(vm(labs.healthy), ['ping', '-c', '1', '-W', '1', '203.0.113.10']);
    });
    const eth1 = lines.get(`${compute(labs.healthy)}/eth1`) ?? [];
    expect(eth1.some((l) => ECHO_REQUEST.test(l) && l.includes('203.0.113.101 > 203.0.113.10'))).toBe(true);
    expect(eth1.some((l) => ECHO_REPLY.test(l) && l.includes('203.0.113.10 > 203.0.113.101'))).toBe(true);
  });

  it('status reports the lab up, dnsmasq and sshd running, the VM’s address live', async () => {
    const [status] = await labStatus({ prefix: labs.healthy.prefix });
    expect(status.phase).toBe('up');
    expect(status.processes.every((p) => p.alive)).toBe(true);
    expect(status.processes.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'sshd-compute',
        'sshd-external',
        'dnsmasq-br100',
        `tap-${TAP}`,
        'listener-web',
      ]),
    );
    expect(
      status.liveInterfaces.find((i) => i.netns === vm(labs.healthy) && i.name === 'eth0')?.addresses,
    ).toEqual(['10.0.0.10/24']);
  });

  it('reply-drop-br100: the echo reply is seen on eth1 and br100 but never on the tap', async () => {
    const c = compute(labs.replyDrop);
    let ping = -1;
    const lines = await captureDuring(
      [
        { netns: c, iface: 'eth1' },
        { netns: c, iface: 'br100' },
        { netns: c, iface: TAP },
      ],
      'icmp',
      async () => {
        ping = (
          await inNetns(vm(labs.replyDrop), ['ping', '-c', '2', '-i', '0.2', '-W', '1', '203.0.113.10'])
        ).exitCode;
      },
    );
    expect(ping).not.toBe(0);
    const tap = lines.get(`${c}/${TAP}`) ?? [];
    expect(lines.get(`${c}/eth1`)?.some((l) => ECHO_REPLY.test(l))).toBe(true);
    expect(lines.get(`${c}/br100`)?.some((l) => ECHO_REPLY.test(l) && l.includes('> 10.0.0.10:'))).toBe(true);
    expect(tap.some((l) => ECHO_REQUEST.test(l))).toBe(true);
    expect(tap.filter((l) => ECHO_REPLY.test(l))).toEqual([]);
    // Only echo replies: DHCP, DNS and TCP still work.
    expect(await trafficOutcomes(labs.replyDrop)).toEqual([
      ['dhcp', true, true],
      ['dns', true, true],
      ['ping-external', false, false],
      ['http-external', true, true],
      ['ping-floating-ip', true, true],
    ]);
  });

  it('dnsmasq-stopped: DHCP discovers cross br100 and get no offer', async () => {
    const c = compute(labs.dnsmasqStopped);
    let dhcp = -1;
    const lines = await captureDuring(
      [{ netns: c, iface: 'br100' }],
      'udp port 67 or udp port 68',
      async () => {
        dhcp = (
          await inNetns(vm(labs.dnsmasqStopped), [
            'busybox',
            'udhcpc',
            '-i',
            'eth0',
            '-n',
            '-q',
            '-t',
            '2',
            '-T',
            '1',
            '-s',
            '/bin/true',
          ])
        ).exitCode;
      },
    );
    expect(dhcp).not.toBe(0);
    const br100 = lines.get(`${c}/br100`) ?? [];
    expect(br100.filter((l) => DHCP_REQUEST.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(br100.filter((l) => DHCP_REPLY.test(l))).toEqual([]);
    const [status] = await labStatus({ prefix: labs.dnsmasqStopped.prefix });
    expect(status.processes.map((p) => p.name)).not.toContain('dnsmasq-br100');
  });

  it('dns-answer-drop: the VM’s query reaches dnsmasq, no answer ever comes back', async () => {
    const c = compute(labs.dnsDrop);
    let dig = -1;
    const lines = await captureDuring(
      [
        { netns: c, iface: TAP },
        { netns: c, iface: 'br100' },
      ],
      'udp port 53',
      async () => {
        dig = (await inNetns(vm(labs.dnsDrop), ['dig', '@10.0.0.1', 'web.lab', '+time=1', '+tries=1']))
          .exitCode;
      },
    );
    expect(dig).toBe(9); // dig: no reply from server
    for (const iface of [TAP, 'br100']) {
      const seen = lines.get(`${c}/${iface}`) ?? [];
      expect(seen.some((l) => l.includes('> 10.0.0.1.53:') && l.includes('A? web.lab.'))).toBe(true);
      expect(seen.filter((l) => l.includes('10.0.0.1.53 >'))).toEqual([]);
    }
    expect(await trafficOutcomes(labs.dnsDrop)).toEqual([
      ['dhcp', true, true],
      ['dns', false, false],
      ['ping-external', true, true],
      ['http-external', true, true],
      ['ping-floating-ip', true, true],
    ]);
  });
});
