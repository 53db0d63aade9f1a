// sdn-vxlan: pod to pod across two nodes over VXLAN; an underlay too small for
// the overlay, and a node missing the route back, witnessed by tcpdump.
import { describe, expect, it } from 'vitest';
import { type LabView } from '../../src/lab/index.js';
import { inNetns, run, suiteLabs, trafficOutcomes } from './support/lab-env.js';
import { captureDuring } from './support/tcpdump.js';

const POD2_IP = '10.128.2.5';
const ECHO_REQUEST = /ICMP echo request/;
const ECHO_REPLY = /ICMP echo reply/;
const LARGE = /length 1408/; // ICMP length of `ping -s 1400`

const ns = (lab: LabView, name: string): string => `${lab.prefix}${name}`;
const pod1 = (lab: LabView): string => ns(lab, 'cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d');

describe('lab sdn-vxlan', () => {
  const labs = suiteLabs('sdn-vxlan', 'sdn', {
    healthy: { prefix: 'ok' },
    mtu: { prefix: 'mtu', fault: 'mtu-mismatch' },
    noRoute: { prefix: 'mr', fault: 'missing-route' },
  });

  it('without a fault: small and large DF pings and TCP reach the pod on the other node', async () => {
    expect(await trafficOutcomes(labs.healthy)).toEqual([
      ['ping-pod', true, true],
      ['ping-pod-large-df', true, true],
      ['http-pod', true, true],
    ]);
  });

  it('without a fault: the underlay carries the ping inside VXLAN, UDP 4789, the project’s VNI', async () => {
    const node1 = ns(labs.healthy, 'node1');
    const lines = await captureDuring([{ netns: node1, iface: 'eth0' }], 'udp port 4789', async () => {
      await inNetns(pod1(labs.healthy), ['ping', '-c', '1', '-W', '1', POD2_IP]);
    });
    const eth0 = lines.get(`${node1}/eth0`) ?? [];
    expect(
      eth0.some(
        (l) =>
          l.includes('192.168.126.11.') &&
          l.includes('> 192.168.126.12.4789:') &&
          /vni 5624913/.test(l) &&
          ECHO_REQUEST.test(l),
      ),
    ).toBe(true);
    expect(eth0.some((l) => /vni 5624913/.test(l) && ECHO_REPLY.test(l))).toBe(true);
  });

  it('mtu-mismatch: small pings pass, large DF pings leave node1 and vanish on the underlay', async () => {
    const node1 = ns(labs.mtu, 'node1');
    const node2 = ns(labs.mtu, 'node2');
    let small = -1;
    let large = -1;
    const lines = await captureDuring(
      [
        { netns: node1, iface: 'vxlan_sys_4789' },
        { netns: node1, iface: 'eth0' },
        { netns: node2, iface: 'eth0' },
        { netns: pod1(labs.mtu), iface: 'eth0' },
      ],
      'icmp or udp port 4789',
      async () => {
        small = (
          await inNetns(pod1(labs.mtu), ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-s', '56', POD2_IP])
        ).exitCode;
        large = (
          await inNetns(pod1(labs.mtu), [
            'ping',
            '-c',
            '2',
            '-i',
            '0.2',
            '-W',
            '1',
            '-M',
            'do',
            '-s',
            '1400',
            POD2_IP,
          ])
        ).exitCode;
      },
    );
    expect(small).toBe(0);
    expect(large).not.toBe(0);
    expect(lines.get(`${node1}/vxlan_sys_4789`)?.some((l) => ECHO_REQUEST.test(l) && LARGE.test(l))).toBe(
      true,
    );
    expect(lines.get(`${node1}/eth0`)?.some((l) => ECHO_REQUEST.test(l) && LARGE.test(l))).toBe(true);
    const node2Eth0 = lines.get(`${node2}/eth0`) ?? [];
    expect(node2Eth0.some((l) => ECHO_REQUEST.test(l))).toBe(true); // the small ones
    expect(node2Eth0.filter((l) => LARGE.test(l))).toEqual([]);
    // Vanish, not refuse: no ICMP "frag needed" comes back to the pod.
    expect(lines.get(`${pod1(labs.mtu)}/eth0`)?.filter((l) => /need to frag|unreachable/.test(l))).toEqual(
      [],
    );
  });

  it('missing-route: the request reaches the pod, its reply dies on node2 after tun0', async () => {
    const node1 = ns(labs.noRoute, 'node1');
    const node2 = ns(labs.noRoute, 'node2');
    let ping = -1;
    const lines = await captureDuring(
      [
        { netns: node2, iface: 'tun0' },
        { netns: node2, iface: 'vxlan_sys_4789' },
        { netns: node1, iface: 'vxlan_sys_4789' },
      ],
      'icmp',
      async () => {
        ping = (await inNetns(pod1(labs.noRoute), ['ping', '-c', '2', '-i', '0.2', '-W', '1', POD2_IP]))
          .exitCode;
      },
    );
    expect(ping).not.toBe(0);
    const tun0 = lines.get(`${node2}/tun0`) ?? [];
    expect(tun0.some((l) => ECHO_REQUEST.test(l))).toBe(true);
    expect(tun0.some((l) => ECHO_REPLY.test(l) && l.includes(`${POD2_IP} > 10.128.0.5`))).toBe(true);
    const node2Vxlan = lines.get(`${node2}/vxlan_sys_4789`) ?? [];
    expect(node2Vxlan.some((l) => ECHO_REQUEST.test(l))).toBe(true);
    expect(node2Vxlan.filter((l) => ECHO_REPLY.test(l))).toEqual([]);
    expect(lines.get(`${node1}/vxlan_sys_4789`)?.filter((l) => ECHO_REPLY.test(l))).toEqual([]);
    const route = await run(['ip', '-n', node2, 'route', 'get', '10.128.0.5']);
    expect(route.exitCode).not.toBe(0);
    expect(await trafficOutcomes(labs.noRoute)).toEqual([
      ['ping-pod', false, false],
      ['ping-pod-large-df', false, false],
      ['http-pod', false, false],
    ]);
  });
});
