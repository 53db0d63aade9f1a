// dvr-fip: DVR floating IP through qrouter and fip namespaces, hybrid plugging,
// DHCP from the network node over VXLAN; security-group drop and br-ex without
// uplink, witnessed by tcpdump on the hops.
import { describe, expect, it } from 'vitest';
import { type LabView } from '../../src/lab/index.js';
import { inNetns, run, suiteLabs, trafficOutcomes } from './support/lab-env.js';
import { captureDuring } from './support/tcpdump.js';

const TAP = 'tap7aa08012-d0';
const QVB = 'qvb7aa08012-d0';
const QR = 'qr-56c70d72-3b';
const FG = 'fg-3c1d5e7f-a2';
const ECHO_REQUEST = /ICMP echo request/;
const SYN = /Flags \[S\]/;

function netns(lab: LabView, startsWith: string): string {
  const found = lab.namespaces.find((n) => n.name.startsWith(`${lab.prefix}${startsWith}`));
  if (!found) throw new Error(`no namespace ${startsWith}*`);
  return found.name;
}

describe('lab dvr-fip', () => {
  const labs = suiteLabs('dvr-fip', 'dvr', {
    healthy: { prefix: 'ok' },
    sgDrop: { prefix: 'sg', fault: 'sg-drop' },
    noUplink: { prefix: 'nu', fault: 'br-ex-no-uplink' },
  });

  it('without a fault: floating IP ping and ssh port, VM to outside, DHCP over the tunnel all work', async () => {
    expect(await trafficOutcomes(labs.healthy)).toEqual([
      ['dhcp', true, true],
      ['ping-outside', true, true],
      ['ping-floating-ip', true, true],
      ['ssh-floating-ip', true, true],
    ]);
  });

  it('the compute host reaches into its qrouter namespace over ssh', async () => {
    const r = await run([
      'ssh',
      '-F',
      labs.healthy.sshConfigPath,
      `${labs.healthy.prefix}compute`,
      'ip',
      'netns',
      'exec',
      netns(labs.healthy, 'qrouter-'),
      'ip',
      '-br',
      'link',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(QR);
  });

  it('sg-drop: inbound ICMP and TCP 22 are seen on qr- and qvb, never on the tap', async () => {
    const compute = netns(labs.sgDrop, 'compute');
    const qrouter = netns(labs.sgDrop, 'qrouter-');
    const outside = netns(labs.sgDrop, 'outside');
    let ping = -1;
    let ssh = -1;
    const lines = await captureDuring(
      [
        { netns: qrouter, iface: QR },
        { netns: compute, iface: QVB },
        { netns: compute, iface: TAP },
      ],
      'icmp or tcp port 22',
      async () => {
        ping = (await inNetns(outside, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '203.0.113.20'])).exitCode;
        ssh = (await inNetns(outside, ['nc', '-z', '-w', '1', '203.0.113.20', '22'])).exitCode;
      },
    );
    expect(ping).not.toBe(0);
    expect(ssh).not.toBe(0);
    for (const [ns, iface] of [
      [qrouter, QR],
      [compute, QVB],
    ]) {
      const seen = lines.get(`${ns}/${iface}`) ?? [];
      expect(seen.some((l) => ECHO_REQUEST.test(l) && l.includes('> 10.0.0.5:'))).toBe(true);
      expect(seen.some((l) => SYN.test(l) && l.includes('> 10.0.0.5.22:'))).toBe(true);
    }
    expect(lines.get(`${compute}/${TAP}`)).toEqual([]);
    // Outbound from the VM is not filtered.
    expect(await trafficOutcomes(labs.sgDrop)).toEqual([
      ['dhcp', true, true],
      ['ping-outside', true, true],
      ['ping-floating-ip', false, false],
      ['ssh-floating-ip', false, false],
    ]);
  });

  it('br-ex-no-uplink: fg- asks ARP for the outside gateway and never gets a reply (INCOMPLETE)', async () => {
    const fip = netns(labs.noUplink, 'fip-');
    const outside = netns(labs.noUplink, 'outside');
    let ping = -1;
    const lines = await captureDuring(
      [
        { netns: fip, iface: FG },
        { netns: outside, iface: 'eth0' },
      ],
      'arp or icmp',
      async () => {
        ping = (
          await inNetns(netns(labs.noUplink, 'instance-'), [
            'ping',
            '-c',
            '3',
            '-i',
            '0.3',
            '-W',
            '1',
            '203.0.113.1',
          ])
        ).exitCode;
      },
    );
    expect(ping).not.toBe(0);
    const fg = lines.get(`${fip}/${FG}`) ?? [];
    expect(fg.some((l) => /Request who-has 203\.0\.113\.1 tell 203\.0\.113\.4/.test(l))).toBe(true);
    expect(fg.filter((l) => /Reply 203\.0\.113\.1 is-at/.test(l))).toEqual([]);
    expect(lines.get(`${outside}/eth0`)).toEqual([]);
    const neigh = await run(['ip', '-n', fip, 'neigh', 'show', '203.0.113.1', 'dev', FG]);
    expect(neigh.stdout).toMatch(/INCOMPLETE|FAILED/);
    expect(await trafficOutcomes(labs.noUplink)).toEqual([
      ['dhcp', true, true],
      ['ping-outside', false, false],
      ['ping-floating-ip', false, false],
      ['ssh-floating-ip', false, false],
    ]);
  });
});
